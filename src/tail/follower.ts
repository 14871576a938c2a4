/**
 * Follows one log path across appends, rotation, truncation and restarts, reading
 * bytes by offset from an open handle and handing them on in order, each byte once.
 *
 * A file is known by device and inode plus a fingerprint of its content (see
 * Fingerprinter). A check first reads what was appended to the open file, with the
 * bytes just before its offset in the same read, and hands it on at once when those
 * are unchanged: a live append reaches the sink before anything else is looked at,
 * and the open file is known not to have been truncated. Then the follower looks at
 * the path (and at the open file, unless that read found it intact), and reads the
 * open file to the end:
 * - the same inode, but smaller than what was read, or no longer holding the bytes
 *   we read just before our offset: the file was truncated in place (copytruncate,
 *   `: > file`), possibly refilled since. What we had not read yet is in the copy
 *   logrotate made (`<log>.1`, or `<log>.1.gz` when it compresses at once), known
 *   by its content: it is read from our offset, then reading starts again at 0;
 * - another inode: the file was rotated by renaming (create mode). The old file is
 *   kept open for a grace period, since a writer may still append to it until it
 *   reopens, and read to its end; the grace ends early once the new file has bytes.
 *   The new file is opened at once, so that a second rotation before we get to it
 *   cannot take it away, and files rotated in between are picked up by inode;
 * - nothing: the file was deleted or renamed away; the old file is drained the same
 *   way and the path is watched until it reappears;
 * - something we may not read (a directory, no permission): said once, with the
 *   reason, and looked at again on every check until it changes.
 * While nothing has been read of the current content, a rotated copy we know nothing
 * of was copied or rotated away before we could read it: it is read first, as a
 * file of its own, and the current file after it (see RotatedCopies).
 *
 * A restart resumes from a `ResumePoint` (a checkpoint): at its offset if the file
 * at the path still has its fingerprint, otherwise from the rotated copy that has it,
 * then every newer copy, then the file at the path from 0.
 *
 * A Waker says when to check (fs.watch and a poll in service; tests wake it by
 * hand or call `check()`). Checks never overlap. Expected conditions are counted
 * and reported through the sink's `notice`; only unexpected errors propagate (and
 * are counted as errors, told once while they repeat).
 *
 * The roles it composes have modules of their own: the read position and
 * fingerprint (fingerprint.ts), the rotated copies (copies.ts), the files queued
 * after the current one and the grace period (successors.ts), finding a
 * checkpoint's content (resume.ts), wake-ups and non-overlapping checks (waker.ts),
 * opening files and wording why not (fs.ts). At about 460 lines it keeps
 * one check's cases together in `checkOnce`, where they read as the paragraph above.
 */
import type { FileHandle } from 'node:fs/promises';
import { RotatedCopies, type QueuedFile } from './copies.js';
import { Fingerprinter } from './fingerprint.js';
import { openLog, PathCondition, statOrNull, type Opened } from './fs.js';
import { identityOf, sameFile, type FilePosition } from './identity.js';
import { findResumption } from './resume.js';
import {
  noCounts,
  type FollowerCounters,
  type FollowerOptions,
  type FollowerSink,
  type FollowerStatus,
  type ReadFile,
  type ResumePoint,
} from './sink.js';
import { Successors } from './successors.js';
import { FsWaker, SerialChecks, type Waker } from './waker.js';

export type { FollowerCounters, FollowerNotice, FollowerOptions, FollowerSink, FollowerStatus, ReadFile, ResumePoint } from './sink.js';

/** The file being read. */
interface OpenFile {
  handle: FileHandle;
  from: ReadFile;
  position: Fingerprinter;
}

export class FileFollower {
  readonly counters: FollowerCounters = noCounts();
  private current: OpenFile | null = null;
  private readonly successors: Successors;
  private readonly copies: RotatedCopies;
  private resume: ResumePoint | null;
  private generation = 0;
  private readonly waker: Waker | null;
  private readonly checks: SerialChecks;
  private stopped = false;
  private openedOnce = false;
  private readonly pathCondition = new PathCondition();
  /** Where reads go, two by turns: one is handed on while the next is read into the other. */
  private readonly buffer: Buffer;
  private readonly spare: Buffer;
  /** Bytes handed to the sink at a time (`readSize`). */
  private readonly slice: number;
  private readonly now: () => number;

  constructor(
    private readonly options: FollowerOptions,
    private readonly sink: FollowerSink,
  ) {
    this.slice = options.readSize ?? 64 * 1024;
    this.buffer = Buffer.allocUnsafe(Math.max(this.slice, options.readAheadSize ?? 1024 * 1024));
    this.spare = Buffer.allocUnsafe(this.buffer.length);
    this.now = options.now ?? Date.now;
    this.resume = options.resume ?? null;
    this.copies = new RotatedCopies(options.path, options.maxRotatedCopies ?? 7, sink, this.counters);
    this.successors = new Successors(options.path, this.copies, options.rotationGraceMs, this.now);
    this.waker = options.waker ?? (options.watch === false ? null : new FsWaker(options.path, options.pollIntervalMs));
    this.checks = new SerialChecks({
      pass: () => this.checkOnce(),
      stopped: () => this.stopped,
      failed: (err, repeated) => {
        this.counters.errors++;
        if (!repeated) this.sink.notice({ kind: 'error', path: options.path, message: err.message });
      },
      settled: () => this.sink.idle?.(),
    });
  }

  status(): FollowerStatus {
    const c = this.current;
    return {
      path: this.options.path,
      exists: c !== null,
      readable: this.pathCondition.unreadable === null,
      error: this.pathCondition.unreadable,
      offset: c?.position.offset ?? 0,
      identity: c?.from.identity ?? null,
    };
  }

  /** True while a check is reading: positions are then in flux. */
  get busy(): boolean {
    return this.checks.busy;
  }

  /**
   * The position of byte `offset` of the current file, fingerprinted, for a
   * checkpoint; null when no file is open, or when the file changed under us
   * since it was read (the next check will find out how). Synchronous, so that it
   * is taken between two checks, never during one.
   */
  positionAt(offset: number): FilePosition | null {
    const c = this.current;
    return c === null ? null : c.position.positionAt(c.handle.fd, c.from.identity, offset);
  }

  /** Heads of the rotated copies whose content has been read or was there before; a checkpoint keeps them. */
  knownCopies(): Buffer[] {
    return this.copies.known();
  }

  /** A number that changes whenever the current content does (another file, or the file emptied in place). */
  get contentGeneration(): number {
    return this.generation;
  }

  /** Bytes of the current file's head seen so far (0 when nothing was read of it). */
  get headLength(): number {
    return this.current?.position.head.length ?? 0;
  }

  /** Starts the waker; the first check runs at once. */
  async start(): Promise<void> {
    this.waker?.start(() => this.check());
    await this.check();
  }

  /** Starts no more checks and waits for the one in progress; the file stays open (positionAt still answers). */
  async halt(): Promise<void> {
    this.stopped = true;
    this.waker?.stop();
    await this.checks.finished();
  }

  /**
   * After a restart: the heads of the rotated copies accounted for before (see
   * `knownCopies`). A copy made while the agent was down is then recognised as new,
   * where a first start takes every copy present as history.
   */
  rememberCopies(heads: readonly Buffer[]): void {
    this.copies.rememberKnown(heads);
  }

  /** Like an explicit `resume` option: the first check resumes here. */
  resumeAt(point: ResumePoint | null): void {
    this.resume = point;
  }

  async stop(): Promise<void> {
    await this.halt();
    await this.current?.handle.close().catch(() => undefined);
    this.current = null;
    await this.successors.close();
  }

  /** Runs one check now, or once more after the one in progress. Resolves when the file is read up to date. */
  check(): Promise<void> {
    return this.checks.run();
  }

  private async checkOnce(): Promise<void> {
    const path = this.options.path;
    if (this.resume !== null) {
      const resume = this.resume;
      this.resume = null;
      // The path cannot be read yet: nothing else to do until it can.
      if (!(await this.resumeFrom(resume))) return;
    }
    if (this.current === null) {
      const next = this.successors.next();
      if (next !== undefined) {
        await this.readNext(next);
        this.checks.repeat();
        return;
      }
      if (!(await this.openPath())) return;
    }
    const cur = this.current!;
    // Live, a wake-up is nearly always an append to the file being read: it is read first,
    // with the bytes before the offset in the same read. While those are unchanged the file
    // was not emptied in place, and what follows them is handed on at once, before the round
    // trips to the thread pool that look for rotation and read the rest. At most one slice:
    // a longer backlog is read in the pool. Fewer bytes, or others: truncated, which the
    // checks that follow find and see to.
    const step = this.options.maxBytesPerStep ?? 16 * 1024 * 1024;
    let appended = 0;
    let intact = false;
    if (!this.successors.rotatedAway && cur.position.offset > 0) {
      const rest = cur.position.readOn(cur.handle.fd, this.buffer, Math.min(this.slice, step));
      if (rest !== null) {
        intact = true;
        if (!(await this.handOn(cur, rest))) return;
        appended = rest.length;
      }
    }
    const atPath = await statOrNull(path);
    const pathIsCurrent = atPath !== null && sameFile(cur.from.identity, identityOf(atPath));

    // Checked on the open file, not the path: it may have been emptied just before being deleted or renamed.
    // Not again when the read above found it intact: it is at least our offset long and holds the bytes before it.
    const size = this.successors.rotatedAway || intact ? null : (await cur.handle.stat()).size;
    if (size !== null && (await cur.position.truncated(cur.handle, size))) await this.recoverTruncation(cur, size, pathIsCurrent);
    // Also right after a truncation: what was written since may have been rotated away already.
    if (cur.position.offset === 0) {
      const before = await this.copies.queueUnseen({ handle: cur.handle, identity: cur.from.identity }, pathIsCurrent);
      if (before.length > 0) {
        this.successors.putFirst([...before, { handle: cur.handle, identity: cur.from.identity, path: cur.from.path, gz: false }]);
        this.current = null;
        this.checks.repeat();
        return;
      }
    }
    // Only a file still at the path and not rotated may be left mid-way: nothing else is in flux then.
    const budget = pathIsCurrent && !this.successors.rotatedAway ? step - appended : Infinity;
    if ((await this.readAvailable(cur, budget)) === 'paused') {
      this.checks.breathe();
      return;
    }
    if (this.stopped) return;

    if (this.successors.rotatedAway) {
      // The writer appends to the old file until it reopens; once the new file has
      // bytes, it has reopened and the old file is final.
      if (!(await this.successors.graceOver(cur.from.identity))) {
        this.sink.pause();
        return;
      }
      await this.readAvailable(cur);
      this.sink.pause();
      await this.finishCurrent();
      this.checks.repeat();
      return;
    }

    if (pathIsCurrent) {
      this.sink.pause();
      return;
    }

    this.sink.pause();
    this.successors.startGrace();
    // Files queued after this one are already known: it was superseded by them.
    if (this.successors.empty) {
      if (atPath === null) {
        this.counters.missing++;
        this.sink.notice({ kind: 'missing', path });
      } else {
        this.counters.rotations++;
        const { between, to } = await this.successors.queueAfter(cur.from.identity, (found) => this.pathNotReadable(found));
        this.sink.notice({ kind: 'rotated', path, from: cur.from.identity, to: to ?? identityOf(atPath), between });
      }
    }
    this.checks.repeat();
  }

  /** The file was emptied in place: read what we had not read from its copy, then start again at 0. */
  private async recoverTruncation(cur: OpenFile, size: number, atPath: boolean): Promise<void> {
    const at = cur.position.offset;
    this.counters.truncations++;
    // The sink is mid-content: the copy's bytes continue it, at the same offsets.
    const isCurrent = await this.copies.isCurrentContent({ handle: cur.handle, identity: cur.from.identity });
    const { match, recovered } = await this.copies.continueFrom(cur.position.mark(), true, {
      isCurrent,
      // Deleted, and not among the copies: copies newer than ours may be of files that came
      // after it; they are found, in order, once we move on from it.
      readNewer: atPath,
    });
    this.counters.bytesRecovered += recovered;
    this.sink.notice({ kind: 'truncated', path: this.options.path, at, size, recoveredFrom: match?.path ?? null, bytesRecovered: recovered });
    this.copies.remember(cur.position.head);
    this.generation++;
    cur.position.restart();
    this.sink.switchFile(cur.from, 0);
    this.copies.lookAgain();
  }

  /** Moves on to the next queued file: a compressed copy is read whole at once, any other followed. */
  private async readNext(next: QueuedFile): Promise<void> {
    if (next.gz) {
      await this.copies.readQueued(next);
      return;
    }
    this.counters.reopens++;
    this.beginReading(next.handle, { path: next.path, identity: next.identity }, new Fingerprinter());
    this.successors.adopted();
  }

  private async finishCurrent(): Promise<void> {
    const c = this.current;
    this.current = null;
    this.successors.finished();
    if (c !== null) {
      // Its rotated copy (renamed, maybe compressed later) is content we have read.
      this.copies.remember(c.position.head);
      await c.handle.close().catch(() => undefined);
    }
    if (this.successors.empty) this.sink.end?.();
  }

  /** Opens the file at the path from 0; false when it does not exist (yet) or cannot be read. */
  private async openPath(): Promise<boolean> {
    const path = this.options.path;
    const opened = await openLog(path);
    if (opened.kind !== 'open') {
      this.pathNotReadable(opened);
      return false;
    }
    const first = !this.openedOnce;
    if (!first) this.counters.reopens++;
    this.beginReading(opened.handle, { path, identity: identityOf(opened.stats) }, new Fingerprinter());
    // The copies there on a first start are history; later ones may hold what was
    // written while the file was away: they are looked at before the file is read.
    if (first && !this.copies.restored) await this.copies.learn();
    return true;
  }

  /** The path is missing or unreadable: told once per change, unreadable checks counted. */
  private pathNotReadable(found: Exclude<Opened, { kind: 'open' }>): void {
    const path = this.options.path;
    if (found.kind === 'unreadable') this.counters.unreadable++;
    if (!this.pathCondition.note(found)) return;
    this.sink.notice(found.kind === 'unreadable' ? { kind: 'unreadable', path, reason: found.reason } : { kind: 'waiting', path });
  }

  /** Makes `handle` the current file, read from `position`, and tells the sink. */
  private beginReading(handle: FileHandle, from: ReadFile, position: Fingerprinter): void {
    this.current = { handle, from, position };
    this.generation++;
    this.openedOnce = true;
    if (from.path === this.options.path) this.pathCondition.opened();
    this.copies.lookAgain();
    this.sink.switchFile(from, position.offset);
    this.sink.notice({ kind: 'opened', path: from.path, identity: from.identity, offset: position.offset });
    if (!this.stopped) this.waker?.pathSeen?.();
  }

  /**
   * Restart: find the checkpointed content, read what follows it, then go on with the
   * file at the path. False when the path cannot be read: the point is kept for later.
   */
  private async resumeFrom(r: ResumePoint): Promise<boolean> {
    const path = this.options.path;
    // Nothing had been read of that content: wherever it went, it is an unread file among
    // the others, which a start without a position finds in order (see RotatedCopies.queueUnseen).
    if (r.offset === 0 && r.head !== undefined && r.head.length === 0 && this.copies.restored) {
      this.counters.resumes++;
      return true;
    }
    const found = await findResumption(path, r, this.copies);
    if (found.kind === 'unreadable') {
      // Resume once the path can be read again, rather than read it from 0.
      this.pathNotReadable(found);
      this.resume = r;
      return false;
    }
    if (found.kind === 'in-place') {
      this.counters.resumes++;
      this.beginReading(found.handle, { path, identity: found.identity }, found.position);
      this.sink.notice({ kind: 'resumed', path, offset: r.offset, from: path });
    } else if (found.copy !== null) {
      this.counters.bytesRecovered += found.recovered;
      this.counters.resumes++;
      this.sink.notice({ kind: 'resumed', path, offset: r.offset, from: found.copy });
    } else {
      this.counters.resumesLost++;
      this.sink.notice({ kind: 'resume-lost', path, offset: r.offset });
    }
    if (found.kind === 'moved' && found.live !== null) this.beginReading(found.live.handle, { path, identity: found.live.identity }, new Fingerprinter());
    // With the copies known at the checkpoint, one made while we were down is recognised as new.
    if ((found.kind === 'in-place' || found.live !== null) && !this.copies.restored) await this.copies.learn();
    return true;
  }

  /**
   * Reads the current file to its end (or `budget` bytes), handing it on a slice at a
   * time. The next read runs in the thread pool while the slices of the last one are
   * handed on: on a long first read the sink's work hides the reads' round trips,
   * which otherwise left the thread waiting for each.
   */
  private async readAvailable(cur: OpenFile, budget = Infinity): Promise<'done' | 'paused'> {
    // A step's budget may be spent on the append read first: the rest waits for the next step.
    if (budget <= 0) return 'paused';
    let buffer = this.buffer;
    let spare = this.spare;
    let read = 0;
    let next: Promise<number> | null = this.readAt(cur, buffer, cur.position.offset, budget);
    try {
      while (next !== null) {
        const bytesRead: number = await next;
        if (bytesRead === 0) return 'done';
        read += bytesRead;
        // Issued before these bytes are handed on, which moves the offset past them.
        next = read < budget ? this.readAt(cur, spare, cur.position.offset + bytesRead, budget - read) : null;
        if (!(await this.handOn(cur, buffer.subarray(0, bytesRead)))) return 'done';
        [buffer, spare] = [spare, buffer];
      }
      return 'paused';
    } finally {
      // However this ends, no read may still be writing into the buffers: the next check reuses them.
      await next?.catch(() => 0);
    }
  }

  /**
   * Hands on `bytes`, read at the current offset, a slice at a time, one turn of the
   * event loop apart: what each slice makes is filed, and the stream clients' sockets
   * drain, before the next. False once stopped.
   */
  private async handOn(cur: OpenFile, bytes: Buffer): Promise<boolean> {
    for (let start = 0; start < bytes.length; start += this.slice) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = bytes.subarray(start, Math.min(bytes.length, start + this.slice));
      const at = cur.position.offset;
      cur.position.advance(chunk);
      this.counters.bytesRead += chunk.length;
      this.sink.data(chunk, at, cur.from);
      if (this.stopped) return false;
    }
    return true;
  }

  /** Reads up to `max` bytes at `at` into `buffer`; resolves with how many were read. */
  private async readAt(cur: OpenFile, buffer: Buffer, at: number, max: number): Promise<number> {
    const { bytesRead } = await cur.handle.read(buffer, 0, Math.min(buffer.length, max), at);
    return bytesRead;
  }
}
