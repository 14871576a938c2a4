import { appendFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { serviceForTest, type TestService } from '../helpers/service.js';
import { SLOW, startWatch, type WatchRun } from '../helpers/watch.js';

let service: TestService;

const append = (...lines: string[]): void => appendFileSync(service.logPath, `${lines.join('\n')}\n`);

/** The agent on a log holding `lines`, every line read. */
async function agentWith(lines: string[], events: number): Promise<void> {
  // An error fails a restore when no success follows within the grace: a second here, not a minute.
  service = await serviceForTest({ track: { rules: { failureGraceSeconds: 1 } } });
  writeFileSync(service.logPath, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  await expect.poll(() => service.agent.status().follower.exists, SLOW).toBe(true);
  await expect.poll(() => service.agent.status().lastEventId, SLOW).toBe(events);
}

/** Starts watch and waits until its stream is open. */
async function watch(args: string[]): Promise<WatchRun> {
  const run = startWatch(['--url', service.url, ...args]);
  await expect.poll(() => service.server.streams.size, SLOW).toBe(1);
  return run;
}

describe('watch --until-done ends with the restore', () => {
  it('exits 0 when the next restore succeeds, one plain line per event', async () => {
    await agentWith([], 0);
    const w = await watch(['--until-done']);
    append(access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order'), logger('12:00:09', 'success'));
    const r = await w.child;
    expect(r.exitCode).toBe(0);
    expect(w.stdout().trimEnd().split('\n')).toEqual([
      '2018-11-20 12:00:00Z  restore-20181120T120000Z  requested  restore requested by admin at 172.28.19.51: POST /v1/restore answered 200',
      '2018-11-20 12:00:01Z  restore-20181120T120000Z  progress   POST /v1/order answered 200',
      '2018-11-20 12:00:09Z  restore-20181120T120000Z  succeeded  success',
    ]);
    expect(w.stderr()).toBe('restore-watcher: restore-20181120T120000Z succeeded in 9s\n');
  });

  it('exits 1 when the restore in progress fails, and says why', async () => {
    await agentWith([access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order')], 2);
    const w = await watch(['--until-done']);
    await expect.poll(() => w.stdout().split('\n').length, SLOW).toBe(3);
    append(logger('12:00:20', 'could not download backup: 403 Forbidden', 'ERROR'), "/x/restore.rb:42:in `download'");
    const r = await w.child;
    expect(r.exitCode).toBe(1);
    // A CI log keeps the error and the failure in full: each backtrace follows, indented.
    expect(w.stdout().trimEnd().split('\n').slice(-4)).toEqual([
      '2018-11-20 12:00:20Z  restore-20181120T120000Z  error      could not download backup: 403 Forbidden',
      "    /x/restore.rb:42:in `download'",
      '2018-11-20 12:00:20Z  restore-20181120T120000Z  failed     could not download backup: 403 Forbidden',
      "    /x/restore.rb:42:in `download'",
    ]);
    expect(w.stdout()).not.toContain('(+1 line)');
    expect(w.stderr()).toBe('restore-watcher: restore-20181120T120000Z failed after 20s: could not download backup: 403 Forbidden\n');
  });

  it('reports a restore that had ended before it started, and waits for the next one', async () => {
    await agentWith([access('12:00:00', '/v1/restore'), logger('12:00:05', 'success')], 2);
    const w = await watch(['--until-done']);
    await expect.poll(() => w.stderr(), SLOW).toContain('restore-20181120T120000Z had already ended before watch started (succeeded at');
    expect(w.child.exitCode).toBeNull();
    append(access('13:00:00', '/v1/restore'), logger('13:00:07', 'disk full', 'FATAL'));
    const r = await w.child;
    expect(r.exitCode).toBe(1);
    // The earlier restore's two events, then the new one requested, its error, its verdict.
    expect(w.stdout().trimEnd().split('\n')).toHaveLength(5);
    expect(w.stderr()).toContain('restore-watcher: restore-20181120T130000Z failed after 7s: disk full');
  });

  it('takes an ended restore requested at or after --since', async () => {
    await agentWith([access('12:00:00', '/v1/restore'), logger('12:00:05', 'success')], 2);
    const run = startWatch(['--url', service.url, '--until-done', '--since', '2018-11-20T11:59:30Z']);
    const r = await run.child;
    expect(r.exitCode).toBe(0);
    expect(run.stderr()).toBe('restore-watcher: restore-20181120T120000Z succeeded in 5s\n');
  });
});

describe('watch usage', () => {
  it('explains --until-done and shows the script example in --help', async () => {
    const run = startWatch(['--help']);
    const r = await run.child;
    expect(r.exitCode).toBe(0);
    expect(run.stdout()).toContain('restore-watcher watch --until-done && run-checks');
    expect(run.stdout()).toContain('had already ended before watch started');
    expect(run.stdout()).toMatch(/3 +the agent rejected the password/);
  });

  it.each([
    [['--timeout', 'soon'], '--timeout: expected a number of seconds > 0'],
    [['--since', '2018-11-20T12:00:00Z'], '--since only has a meaning with --until-done'],
    [['--until-done', '--since', 'yesterday'], '--since: expected an ISO 8601 time with a zone'],
    [['--url', 'ftp://x'], '--url: expected http:// or https://'],
  ])('rejects %j with exit 64', async (args, message) => {
    const run = startWatch(args);
    const r = await run.child;
    expect(r.exitCode).toBe(64);
    expect(run.stderr()).toContain(message);
  });
});
