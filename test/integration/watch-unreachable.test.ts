import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { serviceForTest } from '../helpers/service.js';
import { freePort, SLOW, startWatch } from '../helpers/watch.js';

describe('watch when the agent cannot be reached', () => {
  it('gives up with exit 2 after --timeout, saying why', async () => {
    const port = await freePort();
    const started = Date.now();
    const run = startWatch(['--url', `http://127.0.0.1:${port}`, '--until-done', '--timeout', '1.5']);
    const r = await run.child;
    expect(r.exitCode).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(run.stderr()).toContain(`restore-watcher: http://127.0.0.1:${port}: connection refused (ECONNREFUSED); trying again in`);
    expect(run.stderr()).toMatch(
      new RegExp(`restore-watcher: could not reach the agent at http://127\\.0\\.0\\.1:${port} for \\d+s \\(connection refused \\(ECONNREFUSED\\)\\); giving up\\n$`),
    );
    expect(run.stdout()).toBe('');
  });

  it('keeps trying within --timeout and follows an agent that comes up', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'rw-watch-'));
    try {
      const run = startWatch(['--url', `http://127.0.0.1:${port}`, '--until-done', '--timeout', '60']);
      await expect.poll(() => run.stderr(), SLOW).toContain('connection refused');
      writeFileSync(join(dir, 'production.log'), `${access('12:00:00', '/v1/restore')}\n${logger('12:00:03', 'success')}\n`);
      // Before watch first reached it, the agent had ended this restore: it is history, so add the next one.
      const service = await serviceForTest({ http: { port } }, { dir });
      // watch may be waiting out its longest backoff (15 s, with jitter) when the agent comes up.
      await expect.poll(() => service.server.streams.size, { timeout: 45_000, interval: 50 }).toBe(1);
      appendFileSync(join(dir, 'production.log'), `${access('13:00:00', '/v1/restore')}\n${logger('13:00:04', 'success')}\n`);
      const r = await run.child;
      expect(r.exitCode).toBe(0);
      expect(run.stderr()).toContain('restore-20181120T130000Z succeeded in 4s');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
