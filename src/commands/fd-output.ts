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
  /**
   * Writes `chunks` from chunk `first` on, that one from byte `skip`: a last chunk with
   * write, more with one writev (everything the stream has queued, in one system call
   * where the descriptor takes it). After a partial write it goes on from the byte the
   * descriptor stopped at; after an EAGAIN the rest goes to the fallback.
   */
  const writeFrom = (chunks: Buffer[], first: number, skip: number, done: (err?: Error | null) => void): void => {
    if (instead !== null) return handOver(instead, chunks, first, skip, done);
    const written = (err: NodeJS.ErrnoException | null, count: number): void => {
      if (err?.code === 'EAGAIN') {
        instead = fallback();
        return handOver(instead, chunks, first, skip, done);
      }
      if (err !== null) return done(err);
      let i = first;
      let at = skip + count;
      while (i < chunks.length && at >= chunks[i]!.length) at -= chunks[i++]!.length;
      if (i === chunks.length) done();
      else writeFrom(chunks, i, at, done);
    };
    if (first === chunks.length - 1) {
      const chunk = chunks[first]!;
      write(fd, chunk, skip, chunk.length - skip, null, written);
    } else if (first === 0 && skip === 0) {
      writev(fd, chunks, null, written);
    } else {
      // Only after a partial writev: the chunks it did not finish, the first from where it stopped.
      const rest: Buffer[] = [chunks[first]!.subarray(skip)];
      for (let i = first + 1; i < chunks.length; i++) rest.push(chunks[i]!);
      writev(fd, rest, null, written);
    }
  };
  const { Writable } = process.getBuiltinModule('node:stream');
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      writeFrom([chunk], 0, 0, done);
    },
    writev(chunks, done) {
      writeFrom(chunks.map((c) => c.chunk as Buffer), 0, 0, done);
    },
  });
}

/** `chunks` from chunk `first` on, that one from byte `skip`, written in order to `to`; `done` after the last. */
function handOver(to: Writable, chunks: Buffer[], first: number, skip: number, done: (err?: Error | null) => void): void {
  for (let i = first; i < chunks.length; i++) {
    const chunk = i === first && skip > 0 ? chunks[i]!.subarray(skip) : chunks[i]!;
    if (i < chunks.length - 1) to.write(chunk);
    else to.write(chunk, done);
  }
}
