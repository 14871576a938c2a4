/**
 * What a file is, as opposed to what it is called: device and inode, plus a
 * fingerprint of its bytes. Rotation renames files and truncation reuses them,
 * so the name alone cannot say whether the file is the one we were reading; and
 * an inode can be reused after a delete, or kept by copytruncate while its
 * content starts over, so the inode alone cannot say it either. The fingerprint
 * is the file's first bytes (its head) and the bytes just before the offset read
 * (its tail): a file that still starts with the head and still holds the tail at
 * that offset is the one we were reading.
 */
import type { Stats } from 'node:fs';
import type { FileIdentity } from '../model.js';

export type { FileIdentity };

/** Bytes kept of a file's head and of the tail before the offset read. */
export const FINGERPRINT_BYTES = 64;

/** Where we are in one file's content: its identity, fingerprint and the offset after what was read. */
export interface FilePosition {
  identity: FileIdentity;
  /** The content's first bytes (at most FINGERPRINT_BYTES; fewer when the file was shorter). */
  head: Buffer;
  /** The bytes just before `offset` (at most FINGERPRINT_BYTES). */
  tail: Buffer;
  offset: number;
}

export function identityOf(stats: Stats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino };
}

export function sameFile(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

/** True when `bytes` starts with `prefix`. */
export function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}
