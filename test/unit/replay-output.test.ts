import { execFileSync } from 'node:child_process';
import { constants, openSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fdOutput } from '../../src/commands/fd-output.js';
import { replayFile } from '../../src/commands/replay.js';
import { defaultConfig } from '../../src/defaults.js';
import { accessLine, rackTime } from '../../src/log-lines.js';
import type { WatchEvent } from '../../src/model.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

/** A restore and `polls` order polls: an event per line, about 900 bytes of JSON each. */
function denseLog(polls: number): string {
  const at = Date.UTC(2018, 10, 20, 12, 0, 0);
  const line = (user: string, path: string, i: number): string =>
    accessLine({ host: '172.28.19.51', user, stamp: rackTime(at + i * 10), method: 'POST', target: path, status: 200, size: 13, durationSeconds: 0.01 });
  const lines = [line('admin', '/v1/restore', 0)];
  for (let i = 1; i <= polls; i++) lines.push(line(`poll-${i}`, '/v1/order', i));
  return `${lines.join('\n')}\n`;
}

describe('replay --json output', () => {
  it('reuses a bounded set of buffers with a stream that writes at once, as stdout on a file does', async () => {
    const path = join(tempDir('rw-replay-output-'), 'dense.log');
    const polls = 40_000;
    writeFileSync(path, denseLog(polls));
    const memory = new Set<ArrayBufferLike>();
    // As stdout on a file or /dev/null: written at once, so nothing is buffered, but the stream
    // calls back on a later tick, which a replay reading synchronously only reaches when it waits.
    const { out, chunks } = collector((chunk) => memory.add(chunk.buffer));
    const result = await replayFile(path, { json: true, config: defaultConfig(), out });
    await new Promise((resolve) => out.end(resolve));
    const text = Buffer.concat(chunks).toString();
    const events = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as WatchEvent);
    expect(result.events).toBe(polls + 1);
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: polls + 1 }, (_, i) => i + 1));
    expect(events.at(-1)!.operation.orderPolls).toBe(polls);
    // Tens of megabytes went out through a few megabytes of buffers (a batch is 256 KiB, at most 4 MiB waits).
    expect(text.length).toBeGreaterThan(30_000_000);
    expect(memory.size).toBeLessThanOrEqual(20);
  });
});

describe('replay --json on a pipe', () => {
  it('writes every byte in order, as replay into a stream of its own does', async () => {
    const path = join(tempDir('rw-replay-output-'), 'piped.log');
    writeFileSync(path, denseLog(20_000));
    const { out, chunks } = collector();
    await replayFile(path, { json: true, config: defaultConfig(), out });
    const expected = Buffer.concat(chunks);
    // The command line's stdout is a pipe here, written on the thread pool (fd-output.ts).
    const piped = await cli(['replay', '--json', path], { encoding: 'buffer', stripFinalNewline: false });
    expect(piped.exitCode).toBe(0);
    expect(expected.length).toBeGreaterThan(15_000_000);
    expect(Buffer.compare(piped.stdout as Uint8Array, expected)).toBe(0);
  });

  it('hands the rest to the fallback stream when the descriptor is non-blocking and full, losing nothing', async () => {
    const sent = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7919) % 251;
    const fifo = fullFifo('out.fifo', sent.length);
    await new Promise<void>((resolve, reject) => fifo.out.write(sent, (err) => (err ? reject(err) : resolve())));
    expect(Buffer.compare(await fifo.received, sent)).toBe(0);
    expect(fifo.fallbacks()).toBe(1);
    fifo.close();
  });

  it('writes queued batches in one call, and after a partial one goes on from the byte it stopped at', async () => {
    // Batches of odd sizes, each its own pattern: the fifo (64 KiB) takes part of the first call
    // and stops inside a batch; what it did not take goes on from there, to the fallback.
    const batches = Array.from({ length: 6 }, (_, b) => {
      const bytes = Buffer.alloc(50_000 + b * 7_001);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + b * 17) % 251;
      return bytes;
    });
    const sent = Buffer.concat(batches);
    const fifo = fullFifo('batches.fifo', sent.length);
    // Corked, the stream hands all six to one writev.
    fifo.out.cork();
    const written = batches.map((b) => new Promise<void>((resolve, reject) => fifo.out.write(b, (err) => (err ? reject(err) : resolve()))));
    fifo.out.uncork();
    await Promise.all(written);
    expect(Buffer.compare(await fifo.received, sent)).toBe(0);
    fifo.close();
  });
});

/** A stream that keeps a copy of each chunk written to it, and is done with it at once; `seen` is shown the chunk itself. */
function collector(seen?: (chunk: Buffer) => void): { out: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      chunks.push(Buffer.from(chunk));
      seen?.(chunk);
      done();
    },
  });
  return { out, chunks };
}

/**
 * An fdOutput on a fifo opened non-blocking (mkfifo is in coreutils), in a directory of the
 * running test's own, read by nobody until the output falls back: the pool's write meets a
 * full fifo and fails with EAGAIN. Resolves `received` with the first `length` bytes read,
 * or more if more came.
 */
function fullFifo(name: string, length: number): { out: Writable; received: Promise<Buffer>; fallbacks(): number; close(): void } {
  const fifo = join(tempDir('rw-replay-output-'), name);
  execFileSync('mkfifo', [fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const chunks: Buffer[] = [];
  let fallbacks = 0;
  let writer: Socket | null = null;
  const reader = new Socket({ fd: readFd, readable: true, writable: false });
  reader.pause();
  const received = new Promise<Buffer>((resolve) => {
    let have = 0;
    reader.on('data', (b: Buffer) => {
      chunks.push(b);
      have += b.length;
      if (have >= length) resolve(Buffer.concat(chunks));
    });
  });
  const out = fdOutput(writeFd, () => {
    fallbacks++;
    reader.resume();
    writer = new Socket({ fd: writeFd, readable: false, writable: true });
    return writer;
  });
  return {
    out,
    received,
    fallbacks: () => fallbacks,
    close() {
      reader.destroy();
      (writer as Socket | null)?.destroy();
    },
  };
}
