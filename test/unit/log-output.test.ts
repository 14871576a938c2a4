/**
 * The agent's own log, written to a pipe that nobody reads: the destination holds
 * a bounded number of bytes and drops (and counts) the rest instead of growing.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogOutput, ProgressLogThrottle } from '../../src/log-output.js';
import type { WatchEvent } from '../../src/model.js';

let dir = '';
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Both ends of a FIFO, non-blocking: what is written stays in the pipe until read here. */
function stalledPipe(): { fd: number; drain(): string } {
  dir = mkdtempSync(join(tmpdir(), 'rw-log-'));
  const path = join(dir, 'stdout');
  execFileSync('mkfifo', [path]);
  // Linux lets a FIFO be opened for reading and writing at once, so opening does not wait for a reader.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  fds.push(fd);
  return {
    fd,
    drain() {
      const buf = Buffer.alloc(64 * 1024);
      let text = '';
      for (;;) {
        try {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n === 0) return text;
          text += buf.toString('utf8', 0, n);
        } catch {
          // EAGAIN: the pipe is empty for now.
          return text;
        }
      }
    },
  };
}

describe("the agent's log destination", () => {
  it('drops and counts lines once its buffer is full, instead of growing', async () => {
    const pipe = stalledPipe();
    const maxBufferBytes = 256 * 1024;
    const out = createLogOutput({ fd: pipe.fd, maxBufferBytes, reportEveryMs: 50 });
    const message = 'x'.repeat(200);
    const lines = 50_000;
    for (let i = 0; i < lines; i++) out.logger.info({ i }, message);
    await expect.poll(() => out.counters.droppedLines).toBeGreaterThan(0);
    const lineBytes = out.counters.droppedBytes / out.counters.droppedLines;
    const kept = lines * lineBytes - out.counters.droppedBytes;
    // What was not dropped fits in the pipe (64 KiB on Linux, up to 1 MiB if raised) plus the bound.
    expect(kept).toBeLessThanOrEqual(1024 * 1024 + maxBufferBytes + lineBytes);
    expect(out.counters.droppedLines).toBeGreaterThan(lines / 2);

    // Once the reader catches up, lines flow again and the drop is reported.
    let read = '';
    await expect
      .poll(
        () => {
          read += pipe.drain();
          if (!read.includes('"msg":"after"')) out.logger.info('after');
          return read.includes('"msg":"after"') && read.includes('log lines dropped');
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    const report = read.split('\n').find((l) => l.includes('log lines dropped'))!;
    expect(JSON.parse(report)).toMatchObject({ level: 40, droppedLinesTotal: out.counters.droppedLines });
    out.close();
  });
});

describe('which events are logged at info', () => {
  const progress = (operationId: string) => ({ type: 'restore.progress', operation: { id: operationId } }) as WatchEvent;
  const ended = (operationId: string) => ({ type: 'restore.succeeded', operation: { id: operationId } }) as WatchEvent;

  it("an operation's first progress, then one a minute, and every state change", () => {
    const throttle = new ProgressLogThrottle(60_000);
    const levels = [
      throttle.level(progress('a'), 0),
      throttle.level(progress('a'), 1_000),
      throttle.level(progress('a'), 59_999),
      throttle.level(progress('a'), 60_000),
    ];
    expect(levels).toEqual(['info', 'debug', 'debug', 'info']);
    expect(throttle.quietBefore).toBe(2);
    expect(throttle.level(ended('a'), 60_001)).toBe('info');
    expect(throttle.level(progress('b'), 60_002)).toBe('info');
    expect(throttle.quietBefore).toBe(0);
  });
});
