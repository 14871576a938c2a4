import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { replayFile } from '../../src/commands/replay.js';
import { defaultConfig } from '../../src/defaults.js';
import { accessLine, rackTime } from '../../src/log-lines.js';
import type { WatchEvent } from '../../src/model.js';

const dir = mkdtempSync(join(tmpdir(), 'rw-replay-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
    const path = join(dir, 'dense.log');
    const polls = 40_000;
    writeFileSync(path, denseLog(polls));
    const chunks: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    // As stdout on a file or /dev/null: written at once, so nothing is buffered, but the stream
    // calls back on a later tick, which a replay reading synchronously only reaches when it waits.
    const out = new Writable({
      write(chunk: Buffer, _encoding, done): void {
        chunks.push(Buffer.from(chunk));
        memory.add(chunk.buffer);
        done();
      },
    });
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
