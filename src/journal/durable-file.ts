/**
 * Writing a state file so that a crash at any moment leaves either the old
 * version or the new one, never a mix: the bytes go to a temp file that is
 * fsynced, renamed over the old one, and the directory is fsynced so that the
 * rename itself survives a power loss.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(path: string, data: string | Buffer): void {
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    // On a full disk, a half-written temp file holds space the next attempt needs.
    rmSync(temp, { force: true });
    throw err;
  }
  fsyncDirectory(dirname(path));
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Which directory is at a path (device and inode): another one there means it was deleted and made again. */
export interface DirIdentity {
  dev: number;
  ino: number;
}

/** The directory at `dir`, or null when there is none. */
export function dirIdentity(dir: string): DirIdentity | null {
  try {
    const st = statSync(dir);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}
