/**
 * What a file is, as opposed to what it is called: device and inode, plus a
 * fingerprint of its first bytes. Rotation renames files and truncation reuses
 * them, so the name alone cannot say whether the file is the one we were reading.
 */
import type { Stats } from 'node:fs';

export interface FileIdentity {
  dev: number;
  ino: number;
}

export function identityOf(stats: Stats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino };
}

export function sameFile(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}
