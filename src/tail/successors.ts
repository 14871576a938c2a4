/**
 * Owns what comes after the file being read: the files to read next, in order,
 * each opened when it was found so that no later rotation can take it away, and
 * the grace period of a file rotated away, during which its writer, not reopened
 * yet, may still append to it.
 */
import type { RotatedCopies, QueuedFile } from './copies.js';
import { openLog, statOrNull, type Opened } from './fs.js';
import { identityOf, sameFile, type FileIdentity } from './identity.js';

export class Successors {
  private readonly queue: QueuedFile[] = [];
  /** Set while the current file has been rotated away: until when it is kept open. */
  private until: number | null = null;

  constructor(
    private readonly path: string,
    private readonly copies: RotatedCopies,
    private readonly graceMs: number,
    private readonly now: () => number,
  ) {}

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** True while the current file is rotated away and kept open for its grace period (or until the next check, without one). */
  get rotatedAway(): boolean {
    return this.until !== null;
  }

  /** The next file to read, taken off the queue. */
  next(): QueuedFile | undefined {
    return this.queue.shift();
  }

  /** `files` come before everything queued (unread copies found before the current file, then the current file itself). */
  putFirst(files: QueuedFile[]): void {
    this.queue.unshift(...files);
  }

  /** The current file was rotated away (or deleted): its grace period starts now. */
  startGrace(): void {
    this.until = this.now() + this.graceMs;
  }

  /**
   * A queued file became the current one. With more queued after it, it was
   * superseded already: only the one just before the file at the path may still be
   * appended to by its writer, and gets the grace period.
   */
  adopted(): void {
    if (this.queue.length === 0) return;
    this.until = this.now() + (this.queue[0]!.path === this.path ? this.graceMs : 0);
  }

  /** The current file is finished: no grace period runs. */
  finished(): void {
    this.until = null;
  }

  /**
   * At a rotation of `current`: opens the files rotated after it and the file now at
   * the path. Returns how many were rotated in between and the newest file's
   * identity; `unreadable` is told when the path cannot be read.
   */
  async queueAfter(current: FileIdentity, unreadable: (found: Extract<Opened, { kind: 'unreadable' }>) => void): Promise<{ between: number; to: FileIdentity | null }> {
    const between = await this.copies.rotatedAfter(current);
    this.queue.push(...between);
    const opened = await openLog(this.path);
    if (opened.kind === 'unreadable') unreadable(opened);
    if (opened.kind === 'open') {
      const identity = identityOf(opened.stats);
      if (sameFile(identity, current)) await opened.handle.close();
      else this.queue.push({ handle: opened.handle, identity, path: this.path, gz: false });
    }
    return { between: between.length, to: this.queue.at(-1)?.identity ?? null };
  }

  /**
   * Whether the file rotated away is final: once the next file has bytes, its writer
   * has reopened; otherwise once the grace period is over.
   */
  async graceOver(current: FileIdentity): Promise<boolean> {
    const last = this.queue.at(-1);
    if (last !== undefined) {
      if ((await last.handle.stat()).size > 0) return true;
    } else {
      const atPath = await statOrNull(this.path);
      if (atPath !== null && atPath.isFile() && !sameFile(current, identityOf(atPath)) && atPath.size > 0) return true;
    }
    return this.now() >= this.until!;
  }

  async close(): Promise<void> {
    for (const q of this.queue.splice(0)) await q.handle.close().catch(() => undefined);
  }
}
