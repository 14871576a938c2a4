/**
 * The filesystem calls the follower makes, and what their expected failures mean.
 * A path that does not exist is an answer (null), not an error. A path that exists
 * but cannot be read — a directory, no permission — is a condition of its own, with
 * a reason worded once here (`EISDIR: … is a directory`) for the status and the log.
 * Anything else is unexpected and propagates.
 */
import type { Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

/** What opening the log path found. */
export type Opened =
  | { kind: 'open'; handle: FileHandle; stats: Stats }
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string };

/** Codes that say the path is there but is not a file we may read. */
const UNREADABLE: Record<string, (path: string) => string> = {
  EISDIR: (path) => `EISDIR: ${path} is a directory`,
  EACCES: (path) => `EACCES: ${path} is not readable by this user (permission denied)`,
  EPERM: (path) => `EPERM: ${path} may not be read (operation not permitted)`,
  ENOTDIR: (path) => `ENOTDIR: a component of ${path} is not a directory`,
  ELOOP: (path) => `ELOOP: ${path} is a symbolic link loop`,
};

/** The reason to show for an unreadable path, or null when `err` is not one of those conditions. */
export function unreadableReason(err: unknown, path: string): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const say = code === undefined ? undefined : UNREADABLE[code];
  return say === undefined ? null : say(path);
}

/**
 * Opens `path` for reading. A directory opens without error on Linux and fails
 * only on the first read, so it is told apart here by its stats.
 */
export async function openLog(path: string): Promise<Opened> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    const reason = unreadableReason(err, path);
    if (reason !== null) return { kind: 'unreadable', reason };
    throw err;
  }
  const stats = await handle.stat();
  if (stats.isDirectory()) {
    await handle.close();
    return { kind: 'unreadable', reason: UNREADABLE.EISDIR!(path) };
  }
  return { kind: 'open', handle, stats };
}

/** Opens a file by path; null when it is gone (the next rotation moved it) or is not a readable file. */
export async function openIfReadable(path: string): Promise<FileHandle | null> {
  const opened = await openLog(path);
  return opened.kind === 'open' ? opened.handle : null;
}

export async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Up to `length` bytes at `position` (fewer at the end of the file). */
export async function preadExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  const out = Buffer.alloc(length);
  let have = 0;
  while (have < length) {
    const { bytesRead } = await handle.read(out, have, length - have, position + have);
    if (bytesRead === 0) break;
    have += bytesRead;
  }
  return out.subarray(0, have);
}

/**
 * Owns what is known, and was told, of the log path's condition when it could not
 * be opened: missing, or there but unreadable (and why). Each is news once per change.
 */
export class PathCondition {
  private told: string | null = null;
  /** Why the path cannot be read, while it cannot. */
  unreadable: string | null = null;

  /** Records what opening found; true when that is news. */
  note(found: Exclude<Opened, { kind: 'open' }>): boolean {
    this.unreadable = found.kind === 'unreadable' ? found.reason : null;
    const condition = this.unreadable ?? 'missing';
    if (condition === this.told) return false;
    this.told = condition;
    return true;
  }

  /** The path was opened: whatever it becomes next is news. */
  opened(): void {
    this.told = null;
    this.unreadable = null;
  }
}
