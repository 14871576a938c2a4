/**
 * The follower alone, on real files in a temp directory: a recording sink takes
 * what it hands on, a manual waker and an injected clock decide when it looks and
 * what time it is. No agent, no pipeline.
 */
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFollower, type FollowerOptions } from '../../src/tail/follower.js';
import { ManualWaker } from '../../src/tail/waker.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { copyStep, gzipStep, truncateStep, unlinkPlainStep } from '../helpers/rotate.js';

const GRACE_MS = 1000;
// Lines long enough that a file's first bytes fingerprint it (see FINGERPRINT_BYTES).
const line = (name: string): string => `${name} ${'-'.repeat(70)} ${name}\n`;
const text = (name: string): string => line(name).slice(0, -1);

let dir: string;
let log: string;
let clock: number;
const running: FileFollower[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rw-follower-'));
  log = join(dir, 'production.log');
  clock = 1_000_000;
});

afterEach(async () => {
  for (const f of running.splice(0)) await f.stop();
  rmSync(dir, { recursive: true, force: true });
});

function follower(options: Partial<FollowerOptions> = {}): { f: FileFollower; sink: RecordingSink; waker: ManualWaker } {
  const sink = new RecordingSink();
  const waker = new ManualWaker();
  const f = new FileFollower({ path: log, pollIntervalMs: 50, rotationGraceMs: GRACE_MS, waker, now: () => clock, ...options }, sink);
  running.push(f);
  return { f, sink, waker };
}

describe('FileFollower alone', () => {
  it('reads what is there, then what is appended, each line naming the file and offset it came from', async () => {
    writeFileSync(log, line('a') + line('b'));
    const { f, sink, waker } = follower();
    await f.start();
    expect(waker.started).toBe(true);
    expect(sink.texts()).toEqual([text('a'), text('b')]);
    appendFileSync(log, line('c'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b'), text('c')]);
    expect(sink.lines.map((l) => [l.path, l.offset])).toEqual([
      [log, 0],
      [log, line('a').length],
      [log, 2 * line('a').length],
    ]);
    expect(sink.kinds()).toEqual(['opened']);
    expect(f.status()).toMatchObject({ exists: true, readable: true, error: null, offset: 3 * line('a').length });
    expect(sink.gaps).toEqual([]);
  });

  it('hands on a partial line and the rest of it when it comes, as one line', async () => {
    writeFileSync(log, line('a') + 'par');
    const { f, sink, waker } = follower();
    await f.start();
    expect(sink.texts()).toEqual([text('a')]);
    appendFileSync(log, 'tial\n');
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), 'partial']);
    expect(sink.gaps).toEqual([]);
  });

  it('after a rename rotation reads the old file to its end through the grace period, then the new one', async () => {
    writeFileSync(log, line('a'));
    const writer = openSync(log, 'a');
    const { f, sink, waker } = follower();
    await f.start();
    renameSync(log, `${log}.1`);
    writeFileSync(log, '');
    await waker.wake();
    expect(sink.kinds()).toContain('rotated');
    // The writer has not reopened: it still appends to the renamed file, which is kept open.
    writeSync(writer, line('b'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b')]);
    expect(sink.switches.map((s) => s.path)).toEqual([log]);
    clock += GRACE_MS + 1;
    await waker.wake();
    expect(sink.switches.map((s) => s.path)).toEqual([log, log]);
    closeSync(writer);
    appendFileSync(log, line('c'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b'), text('c')]);
    expect(f.counters).toMatchObject({ rotations: 1, reopens: 1, truncations: 0 });
    expect(sink.gaps).toEqual([]);
  });

  it('ends the grace period early once the new file has bytes', async () => {
    writeFileSync(log, line('a'));
    const { f, sink, waker } = follower();
    await f.start();
    renameSync(log, `${log}.1`);
    writeFileSync(log, line('b'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b')]);
  });

  it.each([
    ['.1', false],
    ['.1.gz', true],
  ])('after copytruncate reads what it had not read from the copy (%s), naming the copy, then the emptied file', async (suffix, gz) => {
    writeFileSync(log, line('a'));
    const { f, sink, waker } = follower();
    await f.start();
    appendFileSync(log, line('b') + line('c'));
    copyStep(log);
    truncateStep(log);
    if (gz) {
      gzipStep(log);
      unlinkPlainStep(log);
    }
    appendFileSync(log, line('d'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b'), text('c'), text('d')]);
    expect(sink.lines.map((l) => l.path)).toEqual([log, `${log}${suffix}`, `${log}${suffix}`, log]);
    expect(sink.lines.map((l) => l.offset)).toEqual([0, line('a').length, 2 * line('a').length, 0]);
    expect(sink.notices).toContainEqual(expect.objectContaining({ kind: 'truncated', recoveredFrom: `${log}${suffix}`, bytesRecovered: 2 * line('a').length }));
    expect(f.counters).toMatchObject({ truncations: 1, copiesRead: 1, bytesRecovered: 2 * line('a').length });
  });

  it('after a truncation with no copy starts again at 0 and says nothing was recovered', async () => {
    writeFileSync(log, line('a') + line('b'));
    const { f, sink, waker } = follower();
    await f.start();
    truncateStep(log);
    appendFileSync(log, line('x'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b'), text('x')]);
    expect(sink.notices).toContainEqual(expect.objectContaining({ kind: 'truncated', recoveredFrom: null, bytesRecovered: 0 }));
    expect(f.counters.truncations).toBe(1);
  });

  it('after a truncation refilled past its offset reads the new content from 0, not from the old offset', async () => {
    writeFileSync(log, line('a') + line('b'));
    const { f, sink, waker } = follower();
    await f.start();
    // Emptied and written again, longer than before, before the next check: the bytes at the
    // old offset are there, but they are the middle of another content.
    truncateStep(log);
    appendFileSync(log, line('x') + line('y') + line('z'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b'), text('x'), text('y'), text('z')]);
    expect(sink.notices).toContainEqual(expect.objectContaining({ kind: 'truncated', at: 2 * line('a').length }));
    expect(sink.lines.at(-1)).toMatchObject({ path: log, offset: 2 * line('x').length });
  });

  it('hands on an append as the check starts, before the path is looked at', async () => {
    writeFileSync(log, line('a'));
    const { f, sink, waker } = follower();
    await f.start();
    appendFileSync(log, line('b'));
    // The check's first step is synchronous: the line is handed on before the wake-up's first
    // await, where looking at the path (a round trip to the thread pool) would come first.
    const checked = waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b')]);
    await checked;
    expect(sink.texts()).toEqual([text('a'), text('b')]);
  });

  it('after a deletion drains the old file, waits, and follows the file re-created at the path', async () => {
    writeFileSync(log, line('a'));
    const { f, sink, waker } = follower();
    await f.start();
    unlinkSync(log);
    await waker.wake();
    expect(sink.kinds()).toEqual(['opened', 'missing']);
    clock += GRACE_MS + 1;
    await waker.wake();
    await waker.wake();
    expect(sink.ends).toBe(1);
    expect(f.status().exists).toBe(false);
    expect(sink.kinds()).toEqual(['opened', 'missing', 'waiting']);
    writeFileSync(log, line('b'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a'), text('b')]);
    expect(f.counters).toMatchObject({ missing: 1, reopens: 1 });
  });

  it('resumes from a checkpointed position in the same file, and from the rotated copy that holds it', async () => {
    writeFileSync(log, line('a') + line('b') + line('c'));
    const first = follower();
    await first.f.start();
    const at = first.f.positionAt(2 * line('a').length)!;
    const known = first.f.knownCopies();
    await first.f.stop();

    appendFileSync(log, line('d'));
    const same = follower({ resume: at });
    await same.f.start();
    expect(same.sink.texts()).toEqual([text('c'), text('d')]);
    expect(same.sink.notices).toContainEqual(expect.objectContaining({ kind: 'resumed', from: log }));
    await same.f.stop();

    renameSync(log, `${log}.1`);
    writeFileSync(log, line('e'));
    const moved = follower();
    moved.f.rememberCopies(known);
    moved.f.resumeAt(at);
    await moved.f.start();
    expect(moved.sink.texts()).toEqual([text('c'), text('d'), text('e')]);
    expect(moved.sink.lines.map((l) => l.path)).toEqual([`${log}.1`, `${log}.1`, log]);
    expect(moved.f.counters).toMatchObject({ resumes: 1, resumesLost: 0 });
  });

  it('says once, with the reason, that the path is a directory, and follows the file that replaces it', async () => {
    mkdirSync(log);
    const { f, sink, waker } = follower();
    await f.start();
    await waker.wake();
    await waker.wake();
    expect(f.status()).toMatchObject({ exists: false, readable: false, error: `EISDIR: ${log} is a directory` });
    expect(sink.notices).toEqual([{ kind: 'unreadable', path: log, reason: `EISDIR: ${log} is a directory` }]);
    expect(f.counters).toMatchObject({ unreadable: 3, errors: 0 });
    rmdirSync(log);
    await waker.wake();
    expect(sink.kinds()).toEqual(['unreadable', 'waiting']);
    expect(f.status()).toMatchObject({ readable: true, error: null });
    writeFileSync(log, line('a'));
    await waker.wake();
    expect(sink.texts()).toEqual([text('a')]);
    expect(sink.kinds()).toEqual(['unreadable', 'waiting', 'opened']);
  });

  it('keeps its resume point while the path cannot be read, and resumes there once it can', async () => {
    writeFileSync(log, line('a') + line('b'));
    const first = follower();
    await first.f.start();
    const at = first.f.positionAt(line('a').length)!;
    await first.f.stop();

    renameSync(log, `${log}.away`);
    mkdirSync(log);
    const { f, sink, waker } = follower({ resume: at });
    await f.start();
    await waker.wake();
    expect(f.status()).toMatchObject({ readable: false, error: `EISDIR: ${log} is a directory` });
    expect(f.counters).toMatchObject({ unreadable: 2, resumes: 0, resumesLost: 0 });
    rmdirSync(log);
    renameSync(`${log}.away`, log);
    await waker.wake();
    expect(sink.texts()).toEqual([text('b')]);
    expect(sink.kinds()).toEqual(['unreadable', 'opened', 'resumed']);
    expect(f.counters).toMatchObject({ resumes: 1, resumesLost: 0 });
  });
});
