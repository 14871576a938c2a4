/**
 * Where `replay` writes: a stream over a file descriptor whose writes run on
 * libuv's thread pool, one at a time and in order.
 *
 * Why not process.stdout: on a pipe it writes what the pipe takes at once
 * (64 KiB) and waits for the event loop to write the rest, but replay reads
 * and computes synchronously between its turns of the loop, so the pipe runs
 * dry while the next batch is made and the reader waits. A write on the pool
 * blocks a pool thread instead, and the pipe is refilled as fast as it is
 * read: a dense replay through a pipe took 10 % less time (1.34 s → 1.21 s).
 * On a file the same write would block replay itself. fs.WriteStream writes
 * the same way but fails on a descriptor left non-blocking by whoever made it
 * (EAGAIN when the pipe is full); this stream hands the rest to `fallback`
 * then (process.stdout, which waits for the pipe), so nothing is lost.
 *
 * What the stream has queued while a write was on the pool goes in one writev:
 * the stream starts its next write only when the event loop turns, and replay
 * turns it seldom, so batches written one at a time left the pipe empty between
 * them while replay waited for them (a dense replay spent a sixth of its time so).
 */
import type { Writable } from 'node:stream';

// Taken with getBuiltinModule, not imported, as in replay-input.ts: the streams load
// only when there is output to write, which a replay printing nothing never has.
const { fstatSync, write, writev } = process.getBuiltinModule('node:fs');

/** True when `fd` is a pipe, a socket or a regular file: written on the thread pool. A terminal is left to process.stdout. */
export function writesOnPool(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket() || st.isFile();
  } catch {
    return false;
  }
}

/** A stream that writes to `fd` on the thread pool; after an EAGAIN, it and everything later go to `fallback()`. */
export function fdOutput(fd: number, fallback: () => Writable): Writable {
  let instead: Writable | null = null;
  const writeAll = (chunk: Buffer, done: (err?: Error | null) => void): void => {
    if (instead !== null) {
      instead.write(chunk, done);
      return;
    }
    write(fd, chunk, 0, chunk.length, null, (err, written) => {
      if (err?.code === 'EAGAIN') {
        instead = fallback();
        instead.write(chunk, done);
      } else if (err !== null) done(err);
      else if (written < chunk.length) writeAll(chunk.subarray(written), done);
      else done();
    });
  };
  /** Everything the stream has queued, in one system call where the descriptor takes it. */
  const writeAllOf = (chunks: Buffer[], done: (err?: Error | null) => void): void => {
    if (instead !== null || chunks.length === 1) {
      writeAll(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), done);
      return;
    }
    writev(fd, chunks, null, (err, written) => {
      if (err?.code === 'EAGAIN') {
        instead = fallback();
        instead.write(Buffer.concat(chunks), done);
        return;
      }
      if (err !== null) return done(err);
      let rest = chunks;
      let skip = written;
      while (rest.length > 0 && skip >= rest[0]!.length) {
        skip -= rest[0]!.length;
        rest = rest.slice(1);
      }
      if (rest.length === 0) return done();
      writeAllOf([rest[0]!.subarray(skip), ...rest.slice(1)], done);
    });
  };
  const { Writable } = process.getBuiltinModule('node:stream');
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      writeAll(chunk, done);
    },
    writev(chunks, done) {
      writeAllOf(chunks.map((c) => c.chunk as Buffer), done);
    },
  });
}
