/**
 * The follower's parts on their own: the fingerprint of a read position, the
 * wording of an unreadable path, what is news about the path, non-overlapping
 * checks, and fs.watch waking the follower on a write.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Fingerprinter, holds } from '../../src/tail/fingerprint.js';
import { openLog, PathCondition } from '../../src/tail/fs.js';
import { FINGERPRINT_BYTES } from '../../src/tail/identity.js';
import { FsWaker, SerialChecks } from '../../src/tail/waker.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rw-tail-roles-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (n: number, from = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => 97 + ((from + i) % 26)));

describe('Fingerprinter', () => {
  it('keeps the first and the latest FINGERPRINT_BYTES across chunks of any size', () => {
    const all = bytes(300);
    const fp = new Fingerprinter();
    for (const [a, b] of [[0, 10], [10, 11], [11, 150], [150, 300]] as const) fp.advance(all.subarray(a, b));
    expect(fp.offset).toBe(300);
    expect(fp.head).toEqual(all.subarray(0, FINGERPRINT_BYTES));
    expect(fp.tail).toEqual(all.subarray(300 - FINGERPRINT_BYTES));
  });

  /** A file of 200 bytes, open, and a Fingerprinter that has read them all. */
  async function readFile(test: (file: string, handle: FileHandle, fp: Fingerprinter) => Promise<void>): Promise<void> {
    const file = join(dir, 'f');
    writeFileSync(file, bytes(200));
    const handle = await open(file, 'r');
    const fp = new Fingerprinter();
    fp.advance(bytes(200));
    try {
      await test(file, handle, fp);
    } finally {
      await handle.close();
    }
  }

  it('tells a truncation by size, and a refill past the offset by the bytes before it', () =>
    readFile(async (file, handle, fp) => {
      expect(await fp.truncated(handle, 200)).toBe(false);
      expect(await fp.truncated(handle, 100)).toBe(true);
      truncateSync(file, 0);
      appendFileSync(file, bytes(300, 5));
      expect(await fp.truncated(handle, 300)).toBe(true);
    }));

  it('reads on past the tail while it is there, and nothing once the file is short or other bytes are there', () =>
    readFile(async (file, handle, fp) => {
      const into = Buffer.alloc(1024);
      expect(fp.readOn(handle.fd, into, 100)).toEqual(Buffer.alloc(0));
      appendFileSync(file, bytes(50, 200));
      expect(fp.readOn(handle.fd, into, 100)).toEqual(bytes(50, 200));
      expect(fp.readOn(handle.fd, into, 20)).toEqual(bytes(20, 200));
      truncateSync(file, 199);
      expect(fp.readOn(handle.fd, into, 100)).toBeNull();
      writeFileSync(file, bytes(300, 1));
      expect(fp.readOn(handle.fd, into, 100)).toBeNull();
    }));

  it('names a position inside what was read, and none past it or once the bytes changed', () =>
    readFile(async (file, handle, fp) => {
      const id = { dev: 1, ino: 2 };
      const at = fp.positionAt(handle.fd, id, 150)!;
      expect(at).toEqual({ identity: id, head: bytes(FINGERPRINT_BYTES), tail: bytes(200).subarray(150 - FINGERPRINT_BYTES, 150), offset: 150 });
      expect(await holds(handle, 200, at)).toBe(true);
      expect(fp.positionAt(handle.fd, id, 201)).toBeNull();
      writeFileSync(file, bytes(200, 1));
      expect(fp.positionAt(handle.fd, id, 150)).toBeNull();
      expect(await holds(handle, 200, at)).toBe(false);
      expect((await Fingerprinter.at(handle, 150)).head).toEqual(bytes(FINGERPRINT_BYTES, 1));
    }));
});

describe('openLog', () => {
  it('tells a missing path, a directory and a file apart', async () => {
    expect(await openLog(join(dir, 'none'))).toEqual({ kind: 'missing' });
    mkdirSync(join(dir, 'd'));
    expect(await openLog(join(dir, 'd'))).toEqual({ kind: 'unreadable', reason: `EISDIR: ${join(dir, 'd')} is a directory` });
    writeFileSync(join(dir, 'f'), 'x');
    const opened = await openLog(join(dir, 'f'));
    expect(opened.kind).toBe('open');
    if (opened.kind === 'open') await opened.handle.close();
  });
  // The EACCES wording is asserted by log-unreadable-permission.test.ts, which runs as a non-root user.
});

describe('PathCondition', () => {
  it('is news once per change, and again after the path was opened', () => {
    const c = new PathCondition();
    const dirNews = { kind: 'unreadable' as const, reason: 'EISDIR: x is a directory' };
    expect([c.note(dirNews), c.note(dirNews), c.unreadable]).toEqual([true, false, dirNews.reason]);
    expect([c.note({ kind: 'missing' }), c.note({ kind: 'missing' }), c.unreadable]).toEqual([true, false, null]);
    c.opened();
    expect(c.note({ kind: 'missing' })).toBe(true);
  });
});

describe('SerialChecks', () => {
  it('never overlaps passes: asked during one, it runs one more after it', async () => {
    let inside = 0;
    let most = 0;
    let passes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const checks = new SerialChecks({
      pass: async () => {
        inside++;
        most = Math.max(most, inside);
        passes++;
        if (passes === 1) await gate;
        inside--;
      },
      stopped: () => false,
      failed: () => undefined,
      settled: () => undefined,
    });
    const first = checks.run();
    const second = checks.run();
    const third = checks.run();
    expect(checks.busy).toBe(true);
    release();
    await Promise.all([first, second, third]);
    expect({ passes, most, busy: checks.busy }).toEqual({ passes: 2, most: 1, busy: false });
  });

  it('flags an error that repeats the last one, so it is counted but not told again', async () => {
    const failures: Array<[string, boolean]> = [];
    let message = 'EIO';
    const checks = new SerialChecks({
      pass: async () => {
        if (message !== '') throw new Error(message);
      },
      stopped: () => false,
      failed: (err, repeated) => failures.push([err.message, repeated]),
      settled: () => undefined,
    });
    await checks.run();
    await checks.run();
    message = '';
    await checks.run();
    message = 'EIO';
    await checks.run();
    expect(failures).toEqual([
      ['EIO', false],
      ['EIO', true],
      ['EIO', false],
    ]);
  });
});

describe('FsWaker', () => {
  it('wakes on a write to the path, before any poll', async () => {
    const log = join(dir, 'production.log');
    writeFileSync(log, '');
    // A poll far beyond the test's deadline: only fs.watch can wake it in time.
    const waker = new FsWaker(log, 3_600_000);
    const wake = vi.fn(async () => undefined);
    waker.start(wake);
    try {
      appendFileSync(log, 'a\n');
      await vi.waitFor(() => expect(wake).toHaveBeenCalled(), { timeout: 5000 });
    } finally {
      waker.stop();
    }
  });
});
