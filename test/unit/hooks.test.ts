import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HookLedger } from '../../src/hooks/ledger.js';
import { execaHook, hookEnvironment, HookRunner, type HookExec, type HookResult, type HookSettings } from '../../src/hooks/runner.js';
import { capturingLogger } from '../helpers/log.js';
import { fixtureJournal } from '../helpers/journal.js';
import { Journal } from '../../src/journal/journal.js';

const settings: HookSettings = { commands: [['notify']], onStall: false, timeoutSeconds: 5, maxAttempts: 3, retryDelaySeconds: 1 };
const ok: HookResult = { exitCode: 0, timedOut: false, output: 'sent', error: null };
const bad: HookResult = { exitCode: 7, timedOut: false, output: 'curl: (7) refused', error: null };

/** An exec that records its calls and answers from a script of results (the last one repeats). */
function recordingExec(results: HookResult[] = [ok]) {
  const calls: { command: string[]; input: unknown; env: Record<string, string> }[] = [];
  const exec: HookExec = async (command, input, env) => {
    calls.push({ command, input: JSON.parse(input), env });
    return results[Math.min(calls.length - 1, results.length - 1)]!;
  };
  return { exec, calls };
}

const stateDir = (): string => mkdtempSync(join(tmpdir(), 'rw-hooks-'));

afterEach(() => {
  vi.useRealTimers();
});

describe('HookRunner', () => {
  it('runs the hooks of terminal events that come after it started, with the event on stdin, and records each', async () => {
    const dir = stateDir();
    const { journal: full } = fixtureJournal(['backup-then-restore.log']);
    const journal = new Journal({ maxEvents: 1000 });
    const { exec, calls } = recordingExec();
    const { logger, records } = capturingLogger();
    const runner = new HookRunner(settings, { ledger: new HookLedger(dir), logger, exec });
    runner.start(journal);
    journal.append(full.all());
    await runner.idle();
    const ends = full.all().filter((e) => e.state === 'succeeded' || e.state === 'failed');
    expect(ends.length).toBe(2);
    expect(calls.map((c) => (c.input as { id: number }).id)).toEqual(ends.map((e) => e.id));
    expect(calls[1]!.env).toMatchObject({
      RESTORE_WATCHER_EVENT: 'restore.succeeded',
      RESTORE_WATCHER_KIND: 'restore',
      RESTORE_WATCHER_STATE: 'succeeded',
      RESTORE_WATCHER_OPERATION_ID: ends[1]!.operation.id,
      RESTORE_WATCHER_EVENT_ID: String(ends[1]!.id),
    });
    expect(new HookLedger(dir).load()).toEqual({ kind: 'loaded', lastEventId: ends[1]!.id });
    expect(records.filter((r) => r.msg.startsWith('hook ran')).map((r) => r.output)).toEqual(['sent', 'sent']);
    expect(runner.counters).toMatchObject({ runs: 2, failures: 0, events: 2 });
  });

  it('on start without a ledger does not announce the history, and records where it starts', async () => {
    const dir = stateDir();
    const { journal } = fixtureJournal(['backup-then-restore.log']);
    const { exec, calls } = recordingExec();
    const runner = new HookRunner(settings, { ledger: new HookLedger(dir), logger: capturingLogger().logger, exec });
    runner.start(journal);
    await runner.idle();
    expect(calls).toEqual([]);
    expect(new HookLedger(dir).load()).toEqual({ kind: 'loaded', lastEventId: journal.lastId });
  });

  it('on start with a ledger runs the hooks of the terminal events after it, once', async () => {
    const dir = stateDir();
    const { journal } = fixtureJournal(['backup-then-restore.log']);
    const backupEnd = journal.all().find((e) => e.type === 'backup.succeeded')!;
    new HookLedger(dir).record(backupEnd.id);
    const { exec, calls } = recordingExec();
    const runner = new HookRunner(settings, { ledger: new HookLedger(dir), logger: capturingLogger().logger, exec });
    runner.start(journal);
    await runner.idle();
    expect(calls.map((c) => c.env.RESTORE_WATCHER_EVENT)).toEqual(['restore.succeeded']);
  });

  it('retries a failing command with a doubling delay, then gives up and moves on', async () => {
    vi.useFakeTimers();
    const dir = stateDir();
    const { journal: full } = fixtureJournal(['backup-then-restore.log']);
    const journal = new Journal({ maxEvents: 1000 });
    const { exec, calls } = recordingExec([bad]);
    const { logger, records } = capturingLogger();
    const runner = new HookRunner(settings, { ledger: new HookLedger(dir), logger, exec });
    runner.start(journal);
    journal.append(full.all().filter((e) => e.operation.kind === 'backup'));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toHaveLength(3);
    await runner.idle();
    expect(calls.map((c) => c.env.RESTORE_WATCHER_ATTEMPT)).toEqual(['1', '2', '3']);
    expect(runner.counters).toMatchObject({ runs: 3, failures: 3, givenUp: 1, events: 1 });
    expect(records.map((r) => r.msg).filter((m) => m.startsWith('hook failed'))).toEqual([
      expect.stringContaining('(exited 7); retrying in 1s'),
      expect.stringContaining('(exited 7); retrying in 2s'),
      expect.stringContaining('(exited 7); giving up after 3 attempts'),
    ]);
    expect(records.find((r) => r.msg.includes('giving up'))?.output).toBe('curl: (7) refused');
  });

  it('stops at once, leaving the event unrecorded so that its hooks run after a restart', async () => {
    const dir = stateDir();
    const { journal: full } = fixtureJournal(['backup-then-restore.log']);
    const journal = new Journal({ maxEvents: 1000 });
    let release: (r: HookResult) => void = () => {};
    const exec: HookExec = (_c, _i, _e, _t, signal) =>
      new Promise((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve({ exitCode: null, timedOut: false, output: '', error: 'stopped' }));
      });
    const runner = new HookRunner(settings, { ledger: new HookLedger(dir), logger: capturingLogger().logger, exec });
    runner.start(journal);
    const before = new HookLedger(dir).load();
    journal.append(full.all());
    await runner.stop();
    release(ok);
    expect(new HookLedger(dir).load()).toEqual(before);
  });

  it.each([
    [false, []],
    [true, ['restore.stalled']],
  ])('with onStall %s, stalls run hooks: %j', async (onStall, expected) => {
    const { journal: full } = fixtureJournal(['restore-stalled.log']);
    expect(full.all().some((e) => e.state === 'stalled')).toBe(true);
    const journal = new Journal({ maxEvents: 1000 });
    const { exec, calls } = recordingExec();
    const runner = new HookRunner({ ...settings, onStall }, { ledger: new HookLedger(stateDir()), logger: capturingLogger().logger, exec });
    runner.start(journal);
    journal.append(full.all().filter((e) => !(e.state === 'succeeded' || e.state === 'failed')));
    await runner.idle();
    expect(calls.map((c) => c.env.RESTORE_WATCHER_EVENT)).toEqual(expected);
  });

  it('gives hooks the agent’s environment without its password', () => {
    // As replay reads it: the end of input settles the failure's verdict.
    const { journal, pipeline } = fixtureJournal(['corpus/real-failure-backtrace.log']);
    journal.append(pipeline.finish());
    const failed = journal.all().find((e) => e.state === 'failed')!;
    expect(failed.operation.failure).toMatch(/\S/);
    const env = hookEnvironment(failed, 2, { PATH: '/bin', RESTORE_WATCHER_PASSWORD: 'secret' });
    expect(env.RESTORE_WATCHER_PASSWORD).toBeUndefined();
    expect(env.PATH).toBe('/bin');
    expect(env.RESTORE_WATCHER_FAILURE).toBe(failed.operation.failure);
    expect(env.RESTORE_WATCHER_ATTEMPT).toBe('2');
  });
});

describe('HookLedger', () => {
  it('tells a missing ledger from an unusable one', () => {
    const dir = stateDir();
    const ledger = new HookLedger(dir);
    expect(ledger.load()).toEqual({ kind: 'missing' });
    writeFileSync(ledger.file, '{"format":"something else"}');
    expect(ledger.load().kind).toBe('unusable');
    ledger.record(42);
    expect(JSON.parse(readFileSync(ledger.file, 'utf8'))).toMatchObject({ version: 1, lastEventId: 42 });
  });
});

describe('execaHook: one real run of a command', () => {
  const run = (command: string[], timeoutMs = 5000) => execaHook(command, '{"id":1}', { PATH: process.env.PATH ?? '' }, timeoutMs, new AbortController().signal);

  it('passes stdin and the environment, and captures stdout and stderr with the exit code', async () => {
    const r = await run(['sh', '-c', 'cat; echo " ${PATH:+path}" >&2; exit 3']);
    expect(r).toEqual({ exitCode: 3, timedOut: false, output: '{"id":1} path', error: null });
  });

  it('says why a command that cannot start failed', async () => {
    const r = await run(['/nonexistent/hook']);
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/ENOENT/);
  });

  it('kills a command at the timeout', async () => {
    const r = await run(['sleep', '10'], 200);
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
  });
});
