import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/model.js';
import { cli, fixture } from '../helpers/cli.js';

async function replayJson(name: string): Promise<WatchEvent[]> {
  const r = await cli(['replay', '--json', fixture(name)]);
  expect(r.exitCode).toBe(0);
  expect(r.stderr).toBe('');
  return String(r.stdout)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as WatchEvent);
}

const story = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.restoreId ?? e.backupId}`);

describe('replay --json', () => {
  it('prints only events, numbered from 1, with source offsets (seed sample)', async () => {
    const events = await replayJson('seed-sample.log');
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    const bytes = readFileSync(fixture('seed-sample.log'));
    for (const e of events) {
      expect(bytes.subarray(e.offset, e.offset + Buffer.byteLength(e.line)).toString()).toBe(e.line);
    }
    expect(events[0]!.offset).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: 'restore.succeeded', message: 'success', time: '2018-11-20T12:13:00.939Z' });
    for (const e of events) {
      expect(Object.keys(e)).toEqual(
        expect.arrayContaining(['id', 'type', 'time', 'restoreId', 'offset', 'line', 'message', 'state']),
      );
    }
  });

  it('tells a backup and a restore apart', async () => {
    const events = await replayJson('backup-then-restore.log');
    expect(story(events.filter((e) => !e.type.endsWith('.progress')))).toEqual([
      'backup.requested backup-20181122T040015Z',
      'backup.succeeded backup-20181122T040015Z',
      'restore.requested restore-20181122T093000Z',
      'restore.succeeded restore-20181122T093000Z',
    ]);
  });

  it('keeps the backtrace in a failing restore', async () => {
    const events = await replayJson('restore-failed-backtrace.log');
    const failed = events.find((e) => e.type === 'restore.failed')!;
    expect(failed.message.split('\n')).toHaveLength(4);
    expect(failed.operation.failure).toContain('403 Forbidden');
    expect(events.at(-1)).toBe(failed);
  });

  it('fails refused restores at once', async () => {
    const events = await replayJson('restore-refused.log');
    // Every restore has a beginning: a refused one is requested and failed at the same moment.
    expect(events.map((e) => [e.type, e.operation.requestStatus])).toEqual([
      ['restore.requested', 409],
      ['restore.failed', 409],
      ['restore.requested', 500],
      ['restore.failed', 500],
    ]);
    expect(events[0]!.time).toBe(events[1]!.time);
  });

  it('leaves a restore running at the end of the file running', async () => {
    const events = await replayJson('restore-running-at-eof.log');
    expect(events.at(-1)!.state).toBe('running');
  });

  it('survives garbage in between: blank, banner, invalid UTF-8, a 200 KB line, a cut line', async () => {
    const events = await replayJson('garbage-between.log');
    expect(events.map((e) => e.type)).toEqual([
      'restore.requested',
      'restore.progress',
      'restore.progress',
      'restore.succeeded',
    ]);
    expect(events[2]!.message).toBe('ünïcödé progress message ✓');
  });

  it('gives the same events on every replay', async () => {
    expect(await replayJson('backup-then-restore.log')).toEqual(await replayJson('backup-then-restore.log'));
  });
});

describe('replay timeline', () => {
  it('tells the story with state changes, collapsed polls and a summary per restore', async () => {
    const r = await cli(['replay', fixture('restore-failed-backtrace.log')]);
    expect(r.exitCode).toBe(0);
    const out = String(r.stdout);
    expect(out).toContain('restore restore-20181120T130000Z');
    expect(out).toMatch(/requested\s+restore requested by admin at 172\.28\.19\.56/);
    expect(out).toMatch(/\+20s\s+error\s+could not download backup: 403 Forbidden/);
    expect(out).toMatch(/\+20s\s+failed\s+could not download backup: 403 Forbidden/);
    expect(out).toContain("restore.rb:42:in `download'");
    expect(out).toMatch(/\n\s+took 20s, backup a9s-pg-1542859215559, 1 warning: retrying download \(attempt 2 of 3\)\n/);
    expect(out).toMatch(/restore-20181120T130000Z\s+failed\s+requested 2018-11-20 13:00:00Z by admin at 172\.28\.19\.56\s+took 20s/);
  });

  it('counts what it did not recognise, by reason', async () => {
    const r = await cli(['replay', fixture('garbage-between.log')]);
    expect(String(r.stdout)).toContain('5 not recognised: 2 unmatched, 1 blank, 1 cut, 1 invalid-utf8');
  });

  it('shows a stall and the recovery', async () => {
    const r = await cli(['replay', fixture('restore-stalled.log')]);
    expect(String(r.stdout)).toMatch(/stalled\s+no activity for 10m since 2018-11-20T16:00:04Z/);
  });
});

describe('replay errors', () => {
  it('names a missing file in one line and exits non-zero', async () => {
    const r = await cli(['replay', '/nonexistent/production.log']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toBe('restore-watcher: /nonexistent/production.log: no such file');
  });

  it('names a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-replay-'));
    const r = await cli(['replay', dir]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toBe(`restore-watcher: ${dir}: is a directory`);
  });

  it('reports usage errors without a stack trace', async () => {
    const r = await cli(['replay', '--bogus', 'x']);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toBe('restore-watcher: unknown flag --bogus; see --help');
    const typo = await cli(['replay', '--jsn', 'x']);
    expect(typo.exitCode).toBe(64);
    expect(typo.stderr).toBe('restore-watcher: unknown flag --jsn (did you mean --json?); see --help');
    expect(r.stderr).not.toContain('    at ');
  });

  it('exits 0 for an empty file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-replay-'));
    const file = join(dir, 'empty.log');
    writeFileSync(file, '');
    const r = await cli(['replay', '--json', file]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
  });
});
