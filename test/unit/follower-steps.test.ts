/**
 * A long first read pauses every maxBytesPerStep bytes so that the agent can
 * checkpoint along the way: the sink is told it is idle, positions are settled
 * (not busy) and name the bytes read so far.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFollower } from '../../src/tail/follower.js';
import { tempDir } from '../helpers/temp.js';

describe('a long first read', () => {
  it('pauses between steps, with settled positions, and reads every byte once', async () => {
    const dir = tempDir('rw-steps-');
    const path = join(dir, 'production.log');
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    writeFileSync(path, text);
    let bytes = 0;
    const pauses: Array<{ busy: boolean; positionAt: number | null; read: number }> = [];
    const follower: FileFollower = new FileFollower(
      { path, pollIntervalMs: 1000, rotationGraceMs: 0, watch: false, readSize: 1024, maxBytesPerStep: 4096 },
      {
        data: (chunk) => (bytes += chunk.length),
        pause: () => undefined,
        switchFile: () => undefined,
        idle: () => pauses.push({ busy: follower.busy, positionAt: follower.positionAt(bytes)?.offset ?? null, read: bytes }),
        notice: () => undefined,
      },
    );
    await follower.start();
    await follower.stop();
    expect(bytes).toBe(Buffer.byteLength(text));
    // One pause per 4 KiB step, then the idle that ends the check.
    expect(pauses.length).toBe(Math.ceil(Buffer.byteLength(text) / 4096));
    for (const p of pauses) expect(p).toEqual({ busy: false, positionAt: p.read, read: p.read });
  });

  it('hands on every byte once, in order and at its offset, while the next read is made ahead', async () => {
    const dir = tempDir('rw-steps-');
    const path = join(dir, 'production.log');
    // Sizes that do not divide one another: slices, reads and steps end at different bytes.
    const text = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`).join('\n') + '\n';
    writeFileSync(path, text);
    const chunks: Array<{ offset: number; bytes: string }> = [];
    let idles = 0;
    const follower = new FileFollower(
      { path, pollIntervalMs: 1000, rotationGraceMs: 0, watch: false, readSize: 1000, readAheadSize: 3001, maxBytesPerStep: 10_007 },
      {
        // Copied: the follower's buffers are written again by later reads.
        data: (chunk, offset) => chunks.push({ offset, bytes: chunk.toString('latin1') }),
        pause: () => undefined,
        switchFile: () => undefined,
        idle: () => idles++,
        notice: () => undefined,
      },
    );
    await follower.start();
    const more = 'appended after the first read\n';
    appendFileSync(path, more);
    await follower.check();
    await follower.stop();
    expect(chunks.map((c) => c.bytes).join('')).toBe(text + more);
    let at = 0;
    for (const c of chunks) {
      expect(c.offset).toBe(at);
      expect(c.bytes.length).toBeLessThanOrEqual(1000);
      at += c.bytes.length;
    }
    expect(idles).toBe(Math.ceil(Buffer.byteLength(text) / 10_007) + 1);
  });
});
