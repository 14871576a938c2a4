import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { ProbeStatus } from '../../src/probe/readiness.js';
import { buildServer, type WatcherServer } from '../../src/serve/server.js';
import { renderText } from '../../src/serve/views/text.js';
import { fixtureJournal, statusOf } from '../helpers/journal.js';

const config = defaultConfig();
const { journal, pipeline } = fixtureJournal(['restore-failed-backtrace.log'], config);
const NOW = Date.parse('2018-11-20T13:05:20Z');
const probe: ProbeStatus = {
  state: 'not-ready',
  program: 'pg_isready',
  checkedAt: '2018-11-20T13:05:17.000Z',
  durationMs: 8,
  exitCode: 2,
  output: '127.0.0.1:5432 - no response',
};
let server: WatcherServer;

beforeAll(async () => {
  server = await buildServer({ config, journal, status: () => statusOf(journal, pipeline), probe: () => probe, now: () => NOW });
});
afterAll(async () => server.app.close());

const get = (accept?: string) => server.app.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });

describe('GET / for curl', () => {
  it('is one screen of text: the restore, its state, times, last message, readiness and last events', async () => {
    const res = await get('*/*');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers.vary).toBe('Accept');
    const lines = res.body.split('\n');
    expect(lines.length).toBeLessThan(25);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(res.body).toContain('restore       restore-20181120T130000Z\n');
    expect(res.body).toContain('state         failed\n');
    expect(res.body).toContain('elapsed       took 20s\n');
    expect(res.body).toContain('last activity 5m ago (2018-11-20 13:00:20Z)\n');
    expect(res.body).toContain('last message  could not download backup: 403 Forbidden (Aws::S3::Errors::Forbidden)\n');
    expect(res.body).toContain('failure       could not download backup: 403 Forbidden (Aws::S3::Errors::Forbidden) (+3 lines)\n');
    expect(res.body).toContain('postgresql    not ready: 127.0.0.1:5432 - no response (checked 3s ago)\n');
    expect(res.body).toMatch(/last events\n {2}2018-11-20 13:00:00Z {2}requested /);
  });

  it('says so when there is no restore yet and the log is missing', () => {
    const empty = fixtureJournal([]);
    const text = renderText({
      status: statusOf(empty.journal, empty.pipeline, {
        state: 'waiting-for-log',
        follower: { path: '/var/log/p.log', exists: false, readable: true, error: null, offset: 0, identity: null, linesRead: 0, caughtUp: true },
      }),
      events: [],
      probe: null,
      now: NOW,
      version: '1.2.3',
    });
    expect(text).toBe(
      'restore-watcher 1.2.3: waiting-for-log, following /var/log/p.log\n' +
        'the log file does not exist yet; waiting for it\n\nno restore in the log yet\n',
    );
  });
});

describe('GET / for browsers', () => {
  it('is a self-contained page with a strict Content-Security-Policy', async () => {
    const res = await get('text/html,application/xhtml+xml,*/*;q=0.8');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'; connect-src 'self'; script-src 'sha256-/);
    expect(res.body).toContain('new EventSource("/events/stream")');
    // Nothing loaded from elsewhere: no external script, style, font or image.
    expect(res.body).not.toMatch(/\b(src|href)=/);
    expect(res.body).not.toMatch(/https?:\/\//);
  });

  it('answers application/json with the status', async () => {
    const res = await get('application/json');
    expect(res.json()).toMatchObject({ restore: { id: 'restore-20181120T130000Z' }, postgresql: { state: 'not-ready' } });
  });
});
