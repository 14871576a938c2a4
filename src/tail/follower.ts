/**
 * Follows one log path across appends, rotation, truncation and restarts, reading
 * bytes by offset from an open handle and handing them on in order, each byte once.
 *
 * A file is known by device and inode plus a fingerprint of its content (its first
 * bytes, and the bytes just before the offset read). On each check the follower
 * looks at its open file and at the path, then reads the open file to the end:
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
 *   way and the path is watched until it reappears.
 * While nothing has been read of the current content, a rotated copy we know nothing
 * of (the heads of copies read or already there are remembered, across restarts too)
 * was copied or rotated away before we could read it: it is read first, as a file
 * of its own, and the current file after it.
 *
 * A restart resumes from a `ResumePoint` (a checkpoint): at its offset if the file
 * at the path still has its fingerprint, otherwise from the rotated copy that has it,
 * then every newer copy, then the file at the path from 0.
 *
 * fs.watch on the directory is the wake-up (milliseconds after a write); a short
 * poll is the fallback for filesystems and events that fs.watch misses. Checks never
 * overlap. Expected conditions are counted and reported through the sink's
 * `notice`; only unexpected errors propagate (and are counted as errors).
 */
import { readSync, watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { FINGERPRINT_BYTES, identityOf, sameFile, startsWith, type FileIdentity, type FilePosition } from './identity.js';
import {
  copiesSignature,
  headOf,
  listCopies,
  openCopy,
  preadExactly,
  readAll,
  readRest,
  statOrNull,
  type RotatedCopy,
} from './rotated.js';

export type FollowerNotice =
  | { kind: 'waiting'; path: string }
  | { kind: 'opened'; path: string; identity: FileIdentity; offset: number }
  | { kind: 'rotated'; path: string; from: FileIdentity; to: FileIdentity; between: number }
  | { kind: 'truncated'; path: string; at: number; size: number; recoveredFrom: string | null; bytesRecovered: number }
  | { kind: 'missing'; path: string }
  | { kind: 'copy-read'; path: string; from: string; offset: number; bytes: number }
  | { kind: 'resumed'; path: string; offset: number; from: string }
  | { kind: 'resume-lost'; path: string; offset: number }
  | { kind: 'error'; path: string; message: string };

export interface FollowerSink {
  /** The next bytes of the file identified by `identity`, starting at `offset`. */
  data(chunk: Buffer, offset: number, identity: FileIdentity): void;
  /** Reading reached the end of what is written so far. */
  pause(): void;
  /** The current file is done (rotated away or truncated); the next data starts a new file at `offset`. */
  switchFile(identity: FileIdentity, offset: number): void;
  /** The current file was rotated away and read to its end, and no other file is there yet. */
  end?(): void;
  /** A check finished: positions are settled until the next one. */
  idle?(): void;
  notice(n: FollowerNotice): void;
}

/** Where to resume: a checkpointed position. `head` and `tail` absent: trust the inode alone. */
export interface ResumePoint {
  identity: FileIdentity;
  offset: number;
  head?: Buffer;
  tail?: Buffer;
}

export interface FollowerOptions {
  path: string;
  pollIntervalMs: number;
  rotationGraceMs: number;
  /** Resume here (see ResumePoint); otherwise the file is read from 0. */
  resume?: ResumePoint | null;
  /** Rotated copies looked at: `<log>.1` … `<log>.N` (logrotate's `rotate N`). */
  maxRotatedCopies?: number;
  /** Bytes per read. */
  readSize?: number;
  /**
   * Bytes of the current file read in one go before the check pauses between two
   * of its steps (default 16 MiB): a long first read then lets the sink take
   * checkpoints along the way (`idle` is called, and `busy` is false, meanwhile).
   */
  maxBytesPerStep?: number;
  /** Set false in tests that drive `check()` themselves. */
  watch?: boolean;
  /** The clock for the rotation grace period (injected for tests). */
  now?: () => number;
}

export interface FollowerCounters {
  /** Bytes read from the followed files themselves. */
  bytesRead: number;
  /** Rename rotations seen (each file rotated away counts once). */
  rotations: number;
  /** In-place truncations seen (copytruncate, `: > file`), refilled or not. */
  truncations: number;
  /** Times the file was deleted (or renamed away with nothing in its place). */
  missing: number;
  /** Files opened after a rotation, a deletion or a wait. */
  reopens: number;
  /** Rotated copies read from (the rest after a truncation or restart, or whole). */
  copiesRead: number;
  /** Bytes read from rotated copies: what would have been lost without them. */
  bytesRecovered: number;
  /** Restarts resumed from a checkpoint. */
  resumes: number;
  /** Restarts whose checkpointed file was found nowhere: read again from the file at the path. */
  resumesLost: number;
  errors: number;
}

export interface FollowerStatus {
  path: string;
  exists: boolean;
  offset: number;
  identity: FileIdentity | null;
}

/** The file being read. */
interface Tracked {
  handle: FileHandle;
  identity: FileIdentity;
  name: string;
  offset: number;
  /** The content's first bytes read (up to FINGERPRINT_BYTES). */
  head: Buffer;
  /** The bytes just before `offset` (up to FINGERPRINT_BYTES). */
  tail: Buffer;
}

/** A file that comes after the current one, opened when its rotation was seen. */
interface Successor {
  handle: FileHandle;
  identity: FileIdentity;
  name: string;
  gz: boolean;
}

const EMPTY = Buffer.alloc(0);
const KNOWN_HEADS = 64;

export class FileFollower {
  readonly counters: FollowerCounters = {
    bytesRead: 0,
    rotations: 0,
    truncations: 0,
    missing: 0,
    reopens: 0,
    copiesRead: 0,
    bytesRecovered: 0,
    resumes: 0,
    resumesLost: 0,
    errors: 0,
  };
  private current: Tracked | null = null;
  private readonly successors: Successor[] = [];
  /** Set while the current file has been rotated away: until when it is kept open. */
  private rotatedUntil: number | null = null;
  /** Heads of rotated copies already accounted for (read, or there before the current content began). */
  private readonly knownHeads = new Set<string>();
  private readonly headCache = new Map<string, Buffer>();
  /** The copies as last looked at while nothing had been read of the current file. */
  private copiesSeen: string | null = null;
  private resume: ResumePoint | null;
  private contentSerial = 0;
  /** The copies' heads came from a checkpoint: none is taken as history. */
  private copiesKnown = false;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** The check stopped reading after maxBytesPerStep and goes on after an idle call. */
  private paused = false;
  /** Between two steps of a check: positions are settled. */
  private between = false;
  private stopped = false;
  private waitingSaid = false;
  private openedOnce = false;
  private readonly buffer: Buffer;
  private readonly now: () => number;
  private readonly maxCopies: number;

  constructor(
    private readonly options: FollowerOptions,
    private readonly sink: FollowerSink,
  ) {
    this.buffer = Buffer.allocUnsafe(options.readSize ?? 256 * 1024);
    this.now = options.now ?? Date.now;
    this.maxCopies = options.maxRotatedCopies ?? 7;
    this.resume = options.resume ?? null;
  }

  status(): FollowerStatus {
    const c = this.current;
    return { path: this.options.path, exists: c !== null, offset: c?.offset ?? 0, identity: c?.identity ?? null };
  }

  /** True while a check is reading: positions are then in flux. */
  get busy(): boolean {
    return this.running !== null && !this.between;
  }

  /**
   * The position of byte `offset` of the current file, fingerprinted, for a
   * checkpoint; null when no file is open, or when the file changed under us
   * since it was read (the next check will find out how). Synchronous, so that it
   * is taken between two checks, never during one.
   */
  positionAt(offset: number): FilePosition | null {
    const c = this.current;
    if (c === null || offset > c.offset) return null;
    // The head may reach past the offset: the more bytes, the surer the recognition.
    const head = Buffer.from(c.head);
    if (offset === c.offset) return { identity: c.identity, head, tail: Buffer.from(c.tail), offset };
    // The bytes before `offset` are read again from the file: only if it still ends, at
    // our offset, with what we read there (not emptied and refilled since) are they ours.
    const keep = Math.min(FINGERPRINT_BYTES, offset);
    const from = offset - keep;
    const bytes = Buffer.alloc(c.offset - from);
    let have = 0;
    while (have < bytes.length) {
      const n = readSync(c.handle.fd, bytes, have, bytes.length - have, from + have);
      if (n === 0) return null;
      have += n;
    }
    if (!bytes.subarray(bytes.length - c.tail.length).equals(c.tail)) return null;
    return { identity: c.identity, head, tail: Buffer.from(bytes.subarray(0, keep)), offset };
  }

  /** Heads of the rotated copies whose content has been read or was there before; a checkpoint keeps them. */
  knownCopies(): Buffer[] {
    return [...this.knownHeads].map((key) => Buffer.from(key, 'base64'));
  }

  /** Changes whenever the current content does (another file, or the file emptied in place). */
  get content(): number {
    return this.contentSerial;
  }

  /** Bytes of the current file's head seen so far (0 when nothing was read of it). */
  get headLength(): number {
    return this.current?.head.length ?? 0;
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

  /** Starts no more checks and waits for the one in progress; the file stays open (positionAt still answers). */
  async halt(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * After a restart: the heads of the rotated copies accounted for before (see
   * `knownCopies`). A copy made while the agent was down is then recognised as new,
   * where a first start takes every copy present as history.
   */
  rememberCopies(heads: readonly Buffer[]): void {
    for (const head of heads) this.rememberHead(head);
    this.copiesKnown = true;
  }

  /** Like an explicit `resume` option: the first check resumes here. */
  resumeAt(point: ResumePoint | null): void {
    this.resume = point;
  }

  async stop(): Promise<void> {
    await this.halt();
    await this.current?.handle.close().catch(() => undefined);
    this.current = null;
    for (const s of this.successors.splice(0)) await s.handle.close().catch(() => undefined);
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
          if (this.paused && !this.stopped) {
            this.paused = false;
            this.between = true;
            try {
              this.sink.idle?.();
            } finally {
              this.between = false;
            }
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.counters.errors++;
        this.sink.notice({ kind: 'error', path: this.options.path, message: (err as Error).message });
      } finally {
        this.running = null;
      }
      if (!this.stopped) this.sink.idle?.();
    })();
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const path = this.options.path;
    if (this.resume !== null) {
      const resume = this.resume;
      this.resume = null;
      await this.resumeFrom(resume);
    }
    if (this.current === null) {
      const next = this.successors.shift();
      if (next !== undefined) {
        await this.adoptSuccessor(next);
        this.again = true;
        return;
      }
      if (!(await this.openPath())) return;
    }
    const cur = this.current!;
    const atPath = await statOrNull(path);
    const pathIsCurrent = atPath !== null && sameFile(cur.identity, identityOf(atPath));

    // Checked on the open file, not the path: it may have been emptied just before being deleted or renamed.
    const size = this.rotatedUntil === null ? (await cur.handle.stat()).size : null;
    if (size !== null && (await this.wasTruncated(cur, size))) await this.recoverTruncation(cur, size, pathIsCurrent);
    // Also right after a truncation: what was written since may have been rotated away already.
    if (cur.offset === 0 && (await this.queueUnseenCopies(cur, pathIsCurrent))) {
      this.again = true;
      return;
    }
    // Only a file that is still at the path and not rotated may be left mid-way: nothing else is in flux then.
    const budget = pathIsCurrent && this.rotatedUntil === null ? (this.options.maxBytesPerStep ?? 16 * 1024 * 1024) : Infinity;
    if ((await this.readAvailable(cur, budget)) === 'paused') {
      this.paused = true;
      this.again = true;
      return;
    }
    if (this.stopped) return;

    if (this.rotatedUntil !== null) {
      // The writer appends to the old file until it reopens; once the new file has
      // bytes, it has reopened and the old file is final.
      if (!(await this.successorHasBytes(cur)) && this.now() < this.rotatedUntil) {
        this.sink.pause();
        return;
      }
      await this.readAvailable(cur);
      this.sink.pause();
      await this.finishCurrent();
      this.again = true;
      return;
    }

    if (pathIsCurrent) {
      this.sink.pause();
      return;
    }

    this.sink.pause();
    this.rotatedUntil = this.now() + this.options.rotationGraceMs;
    // Files queued after this one are already known: it was superseded by them.
    if (this.successors.length === 0) {
      if (atPath === null) {
        this.counters.missing++;
        this.sink.notice({ kind: 'missing', path });
      } else {
        this.counters.rotations++;
        const between = await this.pinSuccessors(cur);
        const to = this.successors.at(-1)?.identity ?? identityOf(atPath);
        this.sink.notice({ kind: 'rotated', path, from: cur.identity, to, between });
      }
    }
    this.again = true;
  }

  /** Same inode: was it truncated (smaller than our offset, or different bytes before it)? */
  private async wasTruncated(cur: Tracked, size: number): Promise<boolean> {
    if (cur.offset === 0) return false;
    if (size < cur.offset) return true;
    const before = await preadExactly(cur.handle, cur.offset - cur.tail.length, cur.tail.length);
    return !before.equals(cur.tail);
  }

  /** The file was emptied in place: read what we had not read from its copy, then start again at 0. */
  private async recoverTruncation(cur: Tracked, size: number, atPath: boolean): Promise<void> {
    const path = this.options.path;
    const at = cur.offset;
    this.counters.truncations++;
    // The pipeline is mid-content: the copy's bytes continue it, at the same offsets.
    const isCurrent = await this.isCurrentContent(cur);
    const { match, recovered } = await this.continueFromCopy({ head: cur.head, tail: cur.tail, offset: at }, cur.identity, {
      isCurrent,
      // Deleted, and not among the copies: copies newer than ours may be of files that came
      // after it; they are found, in order, once we move on from it.
      readNewer: atPath,
    });
    this.counters.bytesRecovered += recovered;
    this.sink.notice({ kind: 'truncated', path, at, size, recoveredFrom: match?.path ?? null, bytesRecovered: recovered });
    this.rememberHead(cur.head);
    this.contentSerial++;
    cur.offset = 0;
    cur.head = EMPTY;
    cur.tail = EMPTY;
    this.sink.switchFile(cur.identity, 0);
    this.copiesSeen = null;
  }

  /**
   * Finds the rotated copy whose content is the one described by `expect` (by its
   * bytes, or by its inode when too few had been read) and hands
   * on what follows its offset, then every newer copy whole. With `continuing`, the
   * bytes continue that file's content as the pipeline has it; without, the pipeline
   * is switched to the copy first.
   */
  private async continueFromCopy(
    expect: { head: Buffer; tail: Buffer; offset: number; identity?: FileIdentity },
    continuing: FileIdentity | null,
    newer: { isCurrent: (copy: RotatedCopy, head: Buffer | null) => boolean; readNewer: boolean } = {
      isCurrent: () => false,
      readNewer: true,
    },
  ): Promise<{ match: RotatedCopy | null; recovered: number }> {
    const copies = await listCopies(this.options.path, this.maxCopies);
    for (const copy of copies) {
      // With fewer bytes read than a fingerprint, the bytes cannot tell this content from
      // another that starts alike: only the inode can, and only of a renamed file (a
      // compressed copy is a new file, maybe on a reused inode).
      const weak = expect.head.length < FINGERPRINT_BYTES;
      if (weak && (copy.gz || !(expect.identity && sameFile(copy.identity, expect.identity)))) continue;
      const handle = await openCopy(copy);
      if (handle === null) continue;
      let n: number | null;
      try {
        let switched = continuing !== null;
        const identity = continuing ?? copy.identity;
        n = await readRest(handle, copy.gz, expect, (chunk, offset) => {
          if (!switched) this.sink.switchFile(identity, expect.offset);
          switched = true;
          this.sink.data(chunk, offset, identity);
        });
        if (n !== null) this.rememberHead(await headOf(handle, copy.gz));
      } finally {
        await handle.close();
      }
      if (n === null) continue;
      this.counters.copiesRead++;
      let recovered = n;
      // Copies newer than ours were rotated after it: their content came later and was
      // never read; up to the current file's own content, if it was rotated too.
      const later = copies.filter((c) => c.n < copy.n).reverse();
      let currentAmong = -1;
      for (let i = 0; i < later.length && currentAmong === -1; i++) {
        if (newer.isCurrent(later[i]!, await this.headOfCopy(later[i]!))) currentAmong = i;
      }
      if (newer.readNewer || currentAmong !== -1) {
        for (const c of currentAmong === -1 ? later : later.slice(0, currentAmong)) recovered += await this.readWholeCopy(c);
      }
      return { match: copy, recovered };
    }
    return { match: null, recovered: 0 };
  }

  /**
   * Nothing has been read of the current content. A rotated copy we know nothing
   * of, older than the current file, was copied and emptied (or rotated away)
   * before we could read it. Such copies are opened and queued before the current
   * file, oldest first, and read as files of their own: a renamed one may still be
   * appended to by its writer, so it gets the rotation grace period. Returns true
   * when the current file was put back in the queue behind them.
   */
  private async queueUnseenCopies(cur: Tracked, atPath: boolean): Promise<boolean> {
    const copies = await listCopies(this.options.path, this.maxCopies);
    const signature = copiesSignature(copies);
    if (signature === this.copiesSeen) return false;
    this.copiesSeen = signature;
    const isCurrent = await this.isCurrentContent(cur);
    const heads = new Map<RotatedCopy, Buffer | null>();
    for (const copy of copies) heads.set(copy, await this.headOfCopy(copy));
    // The current file itself may be among them (renamed, maybe compressed): only older copies come before it.
    const ours = copies.find((c) => isCurrent(c, heads.get(c) ?? null));
    if (!atPath && ours === undefined) {
      // Deleted: its place among the copies is unknown, but they all came after it was opened.
      this.copiesSeen = null;
      return false;
    }
    const unseen = copies.filter((copy) => {
      const head = heads.get(copy);
      if (ours !== undefined && copy.n <= ours.n) return false;
      if (head === null || head === undefined || head.length === 0) return false;
      return !this.knownHeads.has(head.toString('base64'));
    });
    const before: Successor[] = [];
    for (const copy of unseen.reverse()) {
      const handle = await openCopy(copy);
      if (handle !== null) before.push({ handle, identity: identityOf(await handle.stat()), name: copy.path, gz: copy.gz });
    }
    if (before.length === 0) return false;
    this.successors.unshift(...before, { handle: cur.handle, identity: cur.identity, name: cur.name, gz: false });
    this.current = null;
    return true;
  }

  /** Tells whether a rotated copy is the current file itself (renamed, or renamed and compressed). */
  private async isCurrentContent(cur: Tracked): Promise<(copy: RotatedCopy, head: Buffer | null) => boolean> {
    const live = await preadExactly(cur.handle, 0, FINGERPRINT_BYTES);
    // A copy of the current content (being made, or the file renamed and compressed) holds
    // no more than the file: the file starts with the copy's whole head.
    return (copy, head) =>
      sameFile(copy.identity, cur.identity) || (head !== null && head.length > 0 && startsWith(live, head));
  }

  /** Reads a rotated copy whole (unless already accounted for); returns the bytes read. */
  private async readWholeCopy(copy: RotatedCopy): Promise<number> {
    const handle = await openCopy(copy);
    if (handle === null) return 0;
    try {
      const head = await headOf(handle, copy.gz);
      const key = head.toString('base64');
      if (head.length === 0 || this.knownHeads.has(key)) return 0;
      this.sink.switchFile(copy.identity, 0);
      const bytes = await readAll(handle, copy.gz, (chunk, offset) => this.sink.data(chunk, offset, copy.identity));
      this.rememberHead(head);
      this.counters.copiesRead++;
      this.sink.notice({ kind: 'copy-read', path: this.options.path, from: copy.path, offset: 0, bytes });
      return bytes;
    } finally {
      await handle.close();
    }
  }

  /** At a rotation: opens the file now at the path and any rotated in between, so none can be taken away. */
  private async pinSuccessors(cur: Tracked): Promise<number> {
    const copies = await listCopies(this.options.path, this.maxCopies);
    const ours = copies.find((c) => !c.gz && sameFile(c.identity, cur.identity));
    let between = 0;
    if (ours !== undefined) {
      for (const copy of copies.filter((c) => c.n < ours.n).reverse()) {
        const handle = await openCopy(copy);
        if (handle === null) continue;
        this.successors.push({ handle, identity: identityOf(await handle.stat()), name: copy.path, gz: copy.gz });
        between++;
      }
    }
    const handle = await openIfExists(this.options.path);
    if (handle !== null) {
      const identity = identityOf(await handle.stat());
      if (sameFile(identity, cur.identity)) await handle.close();
      else this.successors.push({ handle, identity, name: this.options.path, gz: false });
    }
    return between;
  }

  private async successorHasBytes(cur: Tracked): Promise<boolean> {
    const last = this.successors.at(-1);
    if (last !== undefined) return (await last.handle.stat()).size > 0;
    const atPath = await statOrNull(this.options.path);
    return atPath !== null && !sameFile(cur.identity, identityOf(atPath)) && atPath.size > 0;
  }

  private async adoptSuccessor(next: Successor): Promise<void> {
    if (next.gz) {
      try {
        const head = await headOf(next.handle, true);
        if (head.length > 0 && !this.knownHeads.has(head.toString('base64'))) {
          this.sink.switchFile(next.identity, 0);
          const bytes = await readAll(next.handle, true, (chunk, offset) => this.sink.data(chunk, offset, next.identity));
          this.rememberHead(head);
          this.counters.copiesRead++;
          this.counters.bytesRecovered += bytes;
          this.sink.notice({ kind: 'copy-read', path: this.options.path, from: next.name, offset: 0, bytes });
        }
      } finally {
        await next.handle.close();
      }
      return;
    }
    this.counters.reopens++;
    this.track(next.handle, next.identity, next.name, 0, EMPTY, EMPTY);
    // A file with more queued after it was superseded already. Only the one just before
    // the file at the path may still be appended to by its writer: it gets the grace period.
    if (this.successors.length > 0) {
      const writerMayAppend = this.successors[0]!.name === this.options.path;
      this.rotatedUntil = this.now() + (writerMayAppend ? this.options.rotationGraceMs : 0);
    }
  }

  private async finishCurrent(): Promise<void> {
    const c = this.current;
    this.current = null;
    this.rotatedUntil = null;
    if (c !== null) {
      // Its rotated copy (renamed, maybe compressed later) is content we have read.
      this.rememberHead(c.head);
      await c.handle.close().catch(() => undefined);
    }
    if (this.successors.length === 0) this.sink.end?.();
  }

  /** Opens the file at the path from 0; false when it does not exist (yet). */
  private async openPath(): Promise<boolean> {
    const path = this.options.path;
    const handle = await openIfExists(path);
    if (handle === null) {
      if (!this.waitingSaid) {
        this.waitingSaid = true;
        this.sink.notice({ kind: 'waiting', path });
      }
      return false;
    }
    const first = !this.openedOnce;
    if (!first) this.counters.reopens++;
    this.waitingSaid = false;
    this.track(handle, identityOf(await handle.stat()), path, 0, EMPTY, EMPTY);
    // The copies there on a first start are history; later ones may hold what was
    // written while the file was away: they are looked at before the file is read.
    if (first && !this.copiesKnown) await this.learnCopies();
    return true;
  }

  private track(handle: FileHandle, identity: FileIdentity, name: string, offset: number, head: Buffer, tail: Buffer): void {
    this.current = { handle, identity, name, offset, head, tail };
    this.contentSerial++;
    this.openedOnce = true;
    this.copiesSeen = null;
    this.sink.switchFile(identity, offset);
    this.sink.notice({ kind: 'opened', path: name, identity, offset });
    if (this.watcher === null && this.options.watch !== false && !this.stopped) this.startWatcher();
  }

  /** Restart: find the checkpointed content, read what follows it, then go on with the file at the path. */
  private async resumeFrom(r: ResumePoint): Promise<void> {
    const path = this.options.path;
    const head = r.head ?? EMPTY;
    const tail = r.tail ?? EMPTY;
    // Nothing had been read of that content: wherever it went, it is an unread file among
    // the others, which a start without a position finds in order (see queueUnseenCopies).
    if (r.offset === 0 && r.head !== undefined && r.head.length === 0 && this.copiesKnown) {
      this.counters.resumes++;
      return;
    }
    // With the copies known at the checkpoint, one made while we were down is recognised as new.
    const settle = async (): Promise<void> => {
      if (!this.copiesKnown) await this.learnCopies();
    };
    const live = await openIfExists(path);
    if (live !== null) {
      const stats = await live.stat();
      const identity = identityOf(stats);
      // Another inode at the path is another file, whatever its first bytes say.
      if (
        sameFile(identity, r.identity) &&
        stats.size >= r.offset &&
        (await preadExactly(live, 0, head.length)).equals(head) &&
        (await preadExactly(live, r.offset - tail.length, tail.length)).equals(tail)
      ) {
        const seen = await preadExactly(live, 0, Math.min(FINGERPRINT_BYTES, r.offset));
        const before = await preadExactly(live, r.offset - Math.min(FINGERPRINT_BYTES, r.offset), Math.min(FINGERPRINT_BYTES, r.offset));
        this.counters.resumes++;
        this.track(live, identity, path, r.offset, seen, before);
        this.sink.notice({ kind: 'resumed', path, offset: r.offset, from: path });
        await settle();
        return;
      }
    }
    // Rotated or truncated while we were down: the rest is in a rotated copy, if anywhere.
    const { match, recovered } =
      r.head !== undefined
        ? await this.continueFromCopy({ head, tail, offset: r.offset, identity: r.identity }, null)
        : { match: null, recovered: 0 };
    if (match !== null) {
      this.counters.bytesRecovered += recovered;
      this.counters.resumes++;
      this.sink.notice({ kind: 'resumed', path, offset: r.offset, from: match.path });
    } else {
      this.counters.resumesLost++;
      this.sink.notice({ kind: 'resume-lost', path, offset: r.offset });
    }
    if (live !== null) {
      this.track(live, identityOf(await live.stat()), path, 0, EMPTY, EMPTY);
      await settle();
    }
  }

  /** The copies present now are accounted for: the current content began after them. */
  private async learnCopies(): Promise<void> {
    const copies = await listCopies(this.options.path, this.maxCopies);
    for (const copy of copies) {
      const head = await this.headOfCopy(copy);
      if (head !== null && head.length > 0) this.rememberHead(head);
    }
    this.copiesSeen = copiesSignature(copies);
  }

  private async headOfCopy(copy: RotatedCopy): Promise<Buffer | null> {
    const key = `${copy.path}:${copy.identity.ino}:${copy.size}:${copy.mtimeMs}`;
    const cached = this.headCache.get(key);
    if (cached !== undefined) return cached;
    const handle = await openCopy(copy);
    if (handle === null) return null;
    try {
      const head = await headOf(handle, copy.gz);
      if (this.headCache.size >= KNOWN_HEADS) this.headCache.clear();
      this.headCache.set(key, head);
      return head;
    } catch {
      // A compressed copy still being written: look again on the next check.
      return null;
    } finally {
      await handle.close();
    }
  }

  private rememberHead(head: Buffer): void {
    if (head.length === 0) return;
    const key = head.toString('base64');
    this.knownHeads.delete(key);
    this.knownHeads.add(key);
    if (this.knownHeads.size > KNOWN_HEADS) this.knownHeads.delete(this.knownHeads.values().next().value!);
  }

  private async readAvailable(cur: Tracked, budget = Infinity): Promise<'done' | 'paused'> {
    let read = 0;
    for (;;) {
      if (read >= budget) return 'paused';
      const { bytesRead } = await cur.handle.read(this.buffer, 0, this.buffer.length, cur.offset);
      if (bytesRead === 0) return 'done';
      read += bytesRead;
      const at = cur.offset;
      const chunk = this.buffer.subarray(0, bytesRead);
      if (cur.head.length < FINGERPRINT_BYTES && at <= cur.head.length) {
        cur.head = Buffer.concat([cur.head, chunk.subarray(cur.head.length - at, FINGERPRINT_BYTES - at)]);
      }
      cur.tail =
        bytesRead >= FINGERPRINT_BYTES
          ? Buffer.from(chunk.subarray(bytesRead - FINGERPRINT_BYTES))
          : Buffer.concat([cur.tail, chunk]).subarray(-FINGERPRINT_BYTES);
      cur.offset += bytesRead;
      this.counters.bytesRead += bytesRead;
      this.sink.data(chunk, at, cur.identity);
      if (this.stopped) return 'done';
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

async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
