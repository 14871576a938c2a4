import { describe, expect, it } from 'vitest';
import { resolveWatchSettings } from '../../src/commands/watch.js';

const settings = (url: string) =>
  resolveWatchSettings({ url: [url], 'until-done': false, json: false, heartbeat: '15' }, {}, false);

describe('watch --url', () => {
  it.each([
    ['http://127.0.0.1:9465', 'http://127.0.0.1:9465/'],
    ['http://127.0.0.1:9465/status', 'http://127.0.0.1:9465/'],
    ['http://127.0.0.1:9465/status/', 'http://127.0.0.1:9465/'],
    ['http://127.0.0.1:9465/events/stream?after=3', 'http://127.0.0.1:9465/'],
    ['http://127.0.0.1:9465/events?limit=5', 'http://127.0.0.1:9465/'],
    ['https://proxy.example/watcher/status', 'https://proxy.example/watcher/'],
    ['https://proxy.example/watcher/', 'https://proxy.example/watcher/'],
    ['http://admin:pw@127.0.0.1:9465/healthz', 'http://127.0.0.1:9465/'],
  ])('%s is the agent at %s', (given, agent) => {
    expect(settings(given).url.href).toBe(agent);
  });
});
