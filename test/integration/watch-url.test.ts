import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { serviceForTest } from '../helpers/service.js';
import { SLOW, startWatch } from '../helpers/watch.js';

describe('watch --url as people type it', () => {
  it('says an https:// URL is wrong for an agent that speaks plain HTTP, and exits 2 at once', async () => {
    const service = await serviceForTest();
    const port = service.port;
    const run = startWatch(['--url', `https://127.0.0.1:${port}`, '--until-done']);
    const r = await run.child;
    expect(r.exitCode).toBe(2);
    expect(run.stderr()).toBe(
      `restore-watcher: the agent at https://127.0.0.1:${port} speaks plain HTTP, not HTTPS: use http://127.0.0.1:${port}\n`,
    );
    expect(run.stderr()).not.toMatch(/EPROTO|ssl3_get_record|trying again/);
  });

  it.each(['/status', '/events/stream', '/events/stream?after=3'])('takes a route copied from curl (%s) as the agent itself', async (route) => {
    const service = await serviceForTest();
    const run = startWatch(['--url', `${service.url}${route}`, '--until-done']);
    await expect.poll(() => service.server.streams.size, SLOW).toBe(1);
    appendFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n${logger('12:00:09', 'success')}\n`);
    const r = await run.child;
    expect(r.exitCode).toBe(0);
    expect(run.stderr()).toBe('restore-watcher: restore-20181120T120000Z succeeded in 9s\n');
  });
});
