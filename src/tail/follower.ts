/**
 * Follows one log path across appends, rotation and truncation, reading bytes by
 * offset from an open handle and handing them on in order.
 *
 * The file is known by device and inode, not by name. On each check the follower
 * first reads its open file to the end, then looks at the path:
 * - the same inode, smaller than what was read: the file was truncated in place
 *   (copytruncate, `: > file`); reading starts again at 0;
 * - another inode: the file was rotated by renaming (create mode). The old file is
 *   kept open for a grace period, since a writer may still append to it until it
 *   reopens, and read to its end; then the new file is read from 0;
 * - nothing: the file was deleted or renamed away and not yet re-created; the old
 *   file is drained the same way and the path is watched until it reappears.
 * fs.watch on the directory is the wake-up (milliseconds after a write); a short
 * poll is the fallback for filesystems and events that fs.watch misses. Checks never
 * overlap. Expected conditions are counted and reported through `onNotice`; only
 * unexpected errors propagate.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { identityOf, sameFile, type FileIdentity } from './identity.js';

export type FollowerNotice =
  | { kind: 'waiting'; path: string }
  | { kind: 'opened'; path: string; identity: FileIdentity; offset: number }
  | { kind: 'rotated'; path: string; from: FileIdentity; to: FileIdentity }
  | { kind: 'truncated'; path: string; at: number; size: number }
  | { kind: 'missing'; path: string }
  | { kind: 'error'; path: string; message: string };

export interface FollowerSink {
  /** The next bytes of the file identified by `identity`, starting at `offset`. */
  data(chunk: Buffer, offset: number, identity: FileIdentity): void;
  /** Reading reached the end of what is written so far. */
  pause(): void;
  /** The current file is done (rotated away or truncated); the next data starts a new file at `offset`. */
  switchFile(identity: FileIdentity, offset: number): void;
  notice(n: FollowerNotice): void;
}

export interface FollowerOptions {
  path: string;
  pollIntervalMs: number;
  rotationGraceMs: number;
  /** Resume here if the file at `path` still has this identity; otherwise start at 0. */
  resume?: { identity: FileIdentity; offset: number } | null;
  /** Bytes per read. */
  readSize?: number;
  /** Set false in tests that drive `check()` themselves. */
  watch?: boolean;
  /** The clock for the rotation grace period (injected for tests). */
  now?: () => number;
}

export interface FollowerCounters {
  bytesRead: number;
  rotations: number;
  truncations: number;
  reopens: number;
  errors: number;
}

export interface FollowerStatus {
  path: string;
  exists: boolean;
  offset: number;
  identity: FileIdentity | null;
}

export class FileFollower {
  readonly counters: FollowerCounters = { bytesRead: 0, rotations: 0, truncations: 0, reopens: 0, errors: 0 };
  private handle: FileHandle | null = null;
  private identity: FileIdentity | null = null;
  private offset = 0;
  private exists = false;
  /** Set while the open file has been rotated away: until when it is kept open. */
  private rotatedUntil: number | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private waitingSaid = false;
  private readonly buffer: Buffer;
  private readonly now: () => number;

  constructor(
    private readonly options: FollowerOptions,
    private readonly sink: FollowerSink,
  ) {
    this.buffer = Buffer.allocUnsafe(options.readSize ?? 256 * 1024);
    this.now = options.now ?? Date.now;
  }

  status(): FollowerStatus {
    return { path: this.options.path, exists: this.exists, offset: this.offset, identity: this.identity };
  }

  /** Starts watching and polling; the first check runs at once. */
  async start(): Promise<void> {
    if (this.options.watch !== false) {
      this.startWatcher();
      this.timer = setInterval(() => void this.check(), this.options.pollIntervalMs);
      this.timer.unref();
    }
    await this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }

  /** Runs one check now, or once more after the one in progress. Resolves when the file is read up to date. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.checkOnce();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.counters.errors++;
        this.sink.notice({ kind: 'error', path: this.options.path, message: (err as Error).message });
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const path = this.options.path;
    if (this.handle === null && !(await this.openCurrent())) return;
    await this.readAvailable();
    const current = await statOrNull(path);

    if (this.rotatedUntil !== null) {
      // The writer appends to the old file until it reopens; once the new file has
      // bytes, it has reopened and the old file is final.
      const reopened = current !== null && !sameFile(this.identity, identityOf(current)) && current.size > 0;
      if (!reopened && this.now() < this.rotatedUntil) {
        this.sink.pause();
        return;
      }
      await this.readAvailable();
      this.sink.pause();
      await this.closeCurrent();
      if (current !== null) this.again = true;
      return;
    }

    if (current !== null && sameFile(this.identity, identityOf(current))) {
      if (current.size < this.offset) {
        this.counters.truncations++;
        this.sink.notice({ kind: 'truncated', path, at: this.offset, size: current.size });
        this.offset = 0;
        this.sink.switchFile(this.identity!, 0);
        await this.readAvailable();
      }
      this.sink.pause();
      return;
    }

    // Renamed away (rotated) or deleted: keep the old file open for the grace period.
    this.counters.rotations++;
    this.sink.pause();
    this.rotatedUntil = this.now() + this.options.rotationGraceMs;
    this.sink.notice(
      current === null
        ? { kind: 'missing', path }
        : { kind: 'rotated', path, from: this.identity!, to: identityOf(current) },
    );
    this.again = true;
  }

  private async closeCurrent(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    this.identity = null;
    this.rotatedUntil = null;
    this.exists = false;
    await handle?.close().catch(() => undefined);
  }

  /** Opens the file at the path; false when it does not exist (yet). */
  private async openCurrent(): Promise<boolean> {
    const path = this.options.path;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw err;
      this.exists = false;
      if (!this.waitingSaid) {
        this.waitingSaid = true;
        this.sink.notice({ kind: 'waiting', path });
      }
      return false;
    }
    const identity = identityOf(await handle.stat());
    const resume = this.options.resume;
    let offset = 0;
    if (resume && sameFile(resume.identity, identity)) offset = resume.offset;
    this.options.resume = null;
    if (this.counters.rotations > 0 || this.waitingSaid) this.counters.reopens++;
    this.handle = handle;
    this.identity = identity;
    this.offset = offset;
    this.exists = true;
    this.waitingSaid = false;
    this.sink.switchFile(identity, offset);
    this.sink.notice({ kind: 'opened', path, identity, offset });
    if (this.watcher === null && this.options.watch !== false && !this.stopped) this.startWatcher();
    return true;
  }

  private async readAvailable(): Promise<void> {
    const handle = this.handle!;
    for (;;) {
      const { bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, this.offset);
      if (bytesRead === 0) return;
      const at = this.offset;
      this.offset += bytesRead;
      this.counters.bytesRead += bytesRead;
      this.sink.data(this.buffer.subarray(0, bytesRead), at, this.identity!);
      if (this.stopped) return;
    }
  }

  private startWatcher(): void {
    const name = basename(this.options.path);
    try {
      this.watcher = watch(dirname(this.options.path), { persistent: false }, (_event, file) => {
        if (file === null || file.startsWith(name)) void this.check();
      });
      this.watcher.on('error', () => {
        // The directory went away or cannot be watched: the poll carries on alone.
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // No directory yet, or no inotify: polling alone still finds every change.
      this.watcher = null;
    }
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
