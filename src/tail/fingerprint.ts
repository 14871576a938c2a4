/**
 * Says what content an open file holds and where we are in it. A `Fingerprinter`
 * keeps, for the file being read, the offset read up to, the content's first bytes
 * (its head) and the bytes just before the offset (its tail). From them it tells
 * whether the file was truncated in place (smaller than the offset, or no longer
 * holding the tail there), reads on from the offset in the same read that finds the
 * tail still there, names a position for a checkpoint, and recognises, after a
 * restart, a file that still holds a checkpointed position.
 */
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { preadExactly } from './fs.js';
import { FINGERPRINT_BYTES, type FileIdentity, type FilePosition } from './identity.js';

const EMPTY = Buffer.alloc(0);

/** A content as a checkpoint or a fingerprint describes it: its head, and the tail before `offset`. */
export interface ContentMark {
  head: Buffer;
  tail: Buffer;
  offset: number;
}

/** Owns the read position and fingerprint of the file being read. */
export class Fingerprinter {
  constructor(
    /** Bytes read of the content so far: the next read starts here. */
    public offset = 0,
    /** The content's first bytes read (up to FINGERPRINT_BYTES). */
    public head: Buffer = EMPTY,
    /** The bytes just before `offset` (up to FINGERPRINT_BYTES). */
    public tail: Buffer = EMPTY,
  ) {}

  /** The fingerprint of `handle`'s content read up to `offset` (after a restart found it there). */
  static async at(handle: FileHandle, offset: number): Promise<Fingerprinter> {
    const keep = Math.min(FINGERPRINT_BYTES, offset);
    return new Fingerprinter(offset, await preadExactly(handle, 0, keep), await preadExactly(handle, offset - keep, keep));
  }

  /** Takes in `chunk`, the bytes read at `offset`, and moves the offset past them. */
  advance(chunk: Buffer): void {
    const at = this.offset;
    if (this.head.length < FINGERPRINT_BYTES && at <= this.head.length) {
      this.head = Buffer.concat([this.head, chunk.subarray(this.head.length - at, FINGERPRINT_BYTES - at)]);
    }
    this.tail =
      chunk.length >= FINGERPRINT_BYTES
        ? Buffer.from(chunk.subarray(chunk.length - FINGERPRINT_BYTES))
        : Buffer.concat([this.tail, chunk]).subarray(-FINGERPRINT_BYTES);
    this.offset += chunk.length;
  }

  /** The content started over (truncated in place): nothing of it has been read. */
  restart(): void {
    this.offset = 0;
    this.head = EMPTY;
    this.tail = EMPTY;
  }

  mark(): ContentMark {
    return { head: this.head, tail: this.tail, offset: this.offset };
  }

  /**
   * Reads, into `into`, the tail together with up to `max` bytes after the offset:
   * the bytes after it (possibly none) when the tail is still there, null when the
   * file was truncated in place (too short to hold it, or other bytes there).
   */
  readOn(fd: number, into: Buffer, max: number): Buffer | null {
    const tail = this.tail;
    // A synchronous read, as tail -F makes: an append of a few lines is in the page cache,
    // and its pread costs microseconds where a round trip to the thread pool costs two
    // wake-ups of threads, each a chance to wait for a core. The agent writes its journal
    // synchronously already. Kept short by the caller: a longer backlog is read in the pool.
    const length = Math.min(max, into.length - tail.length) + tail.length;
    const bytesRead = readSync(fd, into, 0, length, this.offset - tail.length);
    if (bytesRead < tail.length || into.compare(tail, 0, tail.length, 0, tail.length) !== 0) return null;
    return into.subarray(tail.length, bytesRead);
  }

  /** Same inode, `size` bytes now: was it truncated (smaller than our offset, or other bytes before it)? */
  async truncated(handle: FileHandle, size: number): Promise<boolean> {
    if (this.offset === 0) return false;
    if (size < this.offset) return true;
    const before = await preadExactly(handle, this.offset - this.tail.length, this.tail.length);
    return !before.equals(this.tail);
  }

  /**
   * The position of byte `offset` (at most what was read), fingerprinted, for a
   * checkpoint; null when the file changed under us since it was read. Synchronous,
   * so that it is taken between two reads, never during one.
   */
  positionAt(fd: number, identity: FileIdentity, offset: number): FilePosition | null {
    if (offset > this.offset) return null;
    // The head may reach past the offset: the more bytes, the surer the recognition.
    const head = Buffer.from(this.head);
    if (offset === this.offset) return { identity, head, tail: Buffer.from(this.tail), offset };
    // The bytes before `offset` are read again from the file: only if it still ends, at
    // our offset, with what we read there (not emptied and refilled since) are they ours.
    const keep = Math.min(FINGERPRINT_BYTES, offset);
    const from = offset - keep;
    const bytes = Buffer.alloc(this.offset - from);
    let have = 0;
    while (have < bytes.length) {
      const n = readSync(fd, bytes, have, bytes.length - have, from + have);
      if (n === 0) return null;
      have += n;
    }
    if (!bytes.subarray(bytes.length - this.tail.length).equals(this.tail)) return null;
    return { identity, head, tail: Buffer.from(bytes.subarray(0, keep)), offset };
  }
}

/** True when the plain file behind `handle`, `size` bytes long, holds `mark`'s content up to its offset. */
export async function holds(handle: FileHandle, size: number, mark: ContentMark): Promise<boolean> {
  return (
    size >= mark.offset &&
    (await preadExactly(handle, 0, mark.head.length)).equals(mark.head) &&
    (await preadExactly(handle, mark.offset - mark.tail.length, mark.tail.length)).equals(mark.tail)
  );
}
