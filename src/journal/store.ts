/**
 * The journal on disk: JSON Lines segments in the state directory, one event per
 * line. New events go to the active segment, `events.jsonl`, after a header line
 * that holds the format and its version. When the active segment is full (a
 * number of events or of bytes) it is sealed: fsynced and renamed
 * `events-<first id>.jsonl`, and a new active segment is started. A manifest,
 * `journal.json`, holds how many events were dropped before the oldest segment
 * kept and the summaries of restores and backups whose events were all dropped
 * (so `/restores` still lists them).
 *
 * The store also keeps the bodies for the in-memory journal (`EventBodies`): the
 * journal indexes each event by segment and byte range, and reads pages back from
 * here when a client asks for them.
 *
 * fsync policy: events are written (write(2), no fsync) as soon as they are made,
 * before any checkpoint covering the log bytes they came from; a killed agent loses
 * nothing, since the kernel has them. The active segment is fsynced before every
 * checkpoint is written, and a segment before it is sealed, so after a power loss
 * the durable checkpoint never covers events that are not durable too: what a crash
 * can cost is only events after the last checkpoint, and those are regenerated from
 * the log, with the same ids, on restart. A line torn by a crash mid-write is cut
 * off when the file is loaded.
 *
 * Compaction is incremental: once every event of the oldest sealed segments has
 * been dropped from the journal, the manifest is rewritten (small) and those
 * segments are deleted. Nothing is ever rewritten whole.
 *
 * A write the disk refuses (full, read-only, gone) never loses an event: what
 * could not be written is cut back to the last whole line, held in memory and
 * served from there, and `writeError` says why; `retry()` writes it once the disk
 * takes it again, so each event reaches the files exactly once. Loading reads what
 * it can even when nothing can be written.
 *
 * Version 1 was a single file, `events.jsonl`, whose header also held the dropped
 * count and the summaries; it is read as it is and becomes the oldest sealed segment.
 *
 * The files' format lives in segments.ts, reading and checking them in load.ts,
 * the bodies a refused write holds in bodies.ts, starting again in a state
 * directory deleted under it in recreate.ts; this class keeps the invariants that
 * tie them together (whole lines, ids in order, the manifest ahead of deletions)
 * while it appends, seals, compacts and retries.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, renameSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { WatchEvent } from '../model.js';
import { HeldBodies, readBodies } from './bodies.js';
import { dirIdentity, writeFileAtomic, type DirIdentity } from './durable-file.js';
import type { EventBodies, Journal } from './journal.js';
import { readSegments, type LoadedJournal, type Visit } from './load.js';
import { directoryGone, planRestart, sameDirectory, writeRestart } from './recreate.js';
import {
  emptyManifest,
  emptySegment,
  headerLine,
  JOURNAL_FILE,
  MANIFEST_FILE,
  sealedName,
  setAsideFiles,
  linesBuffer,
  writeAll,
  writeManifest,
  type Manifest,
  type Segment,
} from './segments.js';

export type { LoadedJournal } from './load.js';
export { JOURNAL_FILE, JOURNAL_FORMAT, JOURNAL_VERSION, MANIFEST_FILE } from './segments.js';

export interface JournalStoreOptions {
  /** Events per segment: a compaction frees at least this many lines at once. */
  compactSlack: number;
  /** Bytes per segment, whichever comes first (default 4 MiB). */
  segmentBytes?: number;
}

/** Owns the journal's files: loads them, appends events, reads pages back, fsyncs, seals and compacts. */
export class JournalStore implements EventBodies {
  readonly file: string;
  readonly manifestFile: string;
  /** Segments deleted by compactions. */
  segmentsDeleted = 0;
  private fd: number | null = null;
  private active: Segment;
  private sealed: Segment[] = [];
  private manifest: Manifest = emptyManifest();
  private readonly segmentBytes: number;
  /** The write the disk refused and the bodies not written because of it. */
  private readonly held = new HeldBodies();
  /** The state directory the files were loaded from; another one at its path means it was deleted. */
  private dir: DirIdentity | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly options: JournalStoreOptions,
  ) {
    this.file = join(stateDir, JOURNAL_FILE);
    this.manifestFile = join(stateDir, MANIFEST_FILE);
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.active = emptySegment(this.file);
  }

  /** Reads every segment (cutting off a torn last line), holding the events in memory, and opens for appending. */
  load(): LoadedJournal {
    const events: WatchEvent[] = [];
    const out = this.scan((e) => events.push(e), () => undefined);
    return { ...out, events };
  }

  /** Reads every segment into `journal`, which indexes the events and leaves their bodies here. */
  loadInto(journal: Journal): Omit<LoadedJournal, 'events'> {
    const out = this.scan(
      (e, chars, ref) => journal.adopt(e, chars, ref),
      (m) => journal.reset(m.dropped, m.operations),
    );
    // Events of files set aside are not the journal's.
    if (out.unusable !== null) journal.reset(0, []);
    journal.settle();
    return out;
  }

  /** Why the last write failed, while the disk refuses; null when writes go through. */
  get writeError(): NodeJS.ErrnoException | null {
    return this.held.failure;
  }

  /** Writes events at the end of the active segment (no fsync: see the policy above). */
  append(events: readonly WatchEvent[]): void {
    this.keep(
      events.map((e) => JSON.stringify(e)),
      events,
    );
  }

  /**
   * Writes the bodies and returns where each is. While the disk refuses, or when
   * this write is refused, the bodies not written are held in memory instead.
   */
  keep(json: readonly string[], events: readonly WatchEvent[]): unknown[] {
    if (this.held.failure !== null || this.fd === null) return this.held.hold(json, events, 0);
    const refs: unknown[] = [];
    try {
      this.write(json, events, refs);
    } catch (err) {
      this.held.failure = err as NodeJS.ErrnoException;
      return [...refs, ...this.held.hold(json, events, refs.length)];
    }
    return refs;
  }

  /**
   * After a refused write: writes what was held, in order. Throws while the disk
   * still refuses (what was held stays held). A no-op when nothing failed. When
   * the state directory was deleted and made again, the journal starts afresh in
   * it (see recreate); `journal` then forgets the events whose files went with
   * the old one. Returns how many went.
   */
  retry(journal?: Journal): number {
    if (!this.sameDir()) this.held.failure ??= directoryGone(this.stateDir);
    let lost = 0;
    this.held.retry((json, events) => {
      lost = this.sameDir() ? (this.reopen(), 0) : this.recreate(journal);
      this.write(json, events, []);
    });
    return lost;
  }

  /** The serialised events behind `refs`: one read per run of adjacent lines; the active segment's through its descriptor. */
  read(refs: readonly unknown[]): string[] {
    return readBodies(refs, (segment) => (segment === this.active ? this.fd : null));
  }

  /** Makes what was appended durable; called before every checkpoint. Throws while writes are refused. */
  sync(): void {
    if (this.held.failure !== null) throw this.held.failure;
    // Appends to a deleted file succeed: only the directory says the state is gone.
    if (!this.sameDir()) throw (this.held.failure = directoryGone(this.stateDir));
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Writes lines at the end of the active segment, sealing it when full; pushes each line's ref to `refs`. */
  private write(json: readonly string[], events: readonly WatchEvent[], refs: unknown[]): void {
    let pending: string[] = [];
    let pendingBytes = 0;
    // What the active segment held before the lines waiting to be written: restored if the write fails.
    let before = { first: this.active.first, last: this.active.last, events: this.active.events, refs: refs.length };
    const flush = (): void => {
      if (pending.length === 0) return;
      try {
        writeAll(this.fd!, linesBuffer(pending, pendingBytes));
      } catch (err) {
        // A partial line would spoil the next one: cut back to the last whole line.
        try {
          ftruncateSync(this.fd!, this.active.size);
        } catch {
          // The next load cuts a torn last line off too.
        }
        Object.assign(this.active, { first: before.first, last: before.last, events: before.events });
        refs.length = before.refs;
        throw err;
      }
      this.active.size += pendingBytes;
      pending = [];
      pendingBytes = 0;
      before = { first: this.active.first, last: this.active.last, events: this.active.events, refs: refs.length };
    };
    json.forEach((text, i) => {
      const e = events[i]!;
      if (this.active.events >= this.options.compactSlack || this.active.size + pendingBytes >= this.segmentBytes) {
        if (this.active.events > 0) {
          flush();
          this.seal();
          before = { first: this.active.first, last: this.active.last, events: this.active.events, refs: refs.length };
        }
      }
      const length = Buffer.byteLength(text) + 1;
      refs.push({ segment: this.active, position: this.active.size + pendingBytes, length });
      pending.push(text);
      pendingBytes += length;
      if (this.active.events === 0) this.active.first = e.id;
      this.active.last = e.id;
      this.active.events++;
    });
    flush();
  }

  /** Opens the active segment for appending again, after a refused write left it closed or sealed half-way. */
  private reopen(): void {
    if (this.fd !== null) {
      ftruncateSync(this.fd, this.active.size);
      return;
    }
    if (this.active.path !== this.file || !existsSync(this.file)) {
      // Sealed (renamed) but no new active segment yet: start one.
      writeFileAtomic(this.file, headerLine());
      this.active = emptySegment(this.file, Buffer.byteLength(headerLine()));
    } else {
      truncateSync(this.file, this.active.size);
    }
    this.fd = openSync(this.file, 'a+');
  }

  /** Starts the journal again in a state directory deleted and made again (see recreate.ts); returns how many events went. */
  private recreate(journal: Journal | undefined): number {
    const plan = planRestart(this.fd, this.active.path === this.file, this.active, this.sealed, this.manifest, journal);
    // Forgotten before anything is written, so that a second attempt (after a refused write) counts nothing twice.
    this.sealed = [];
    if (plan.kept === null) this.active = emptySegment(this.file, Buffer.byteLength(headerLine()));
    this.manifest = plan.manifest;
    journal?.dropThrough(plan.lostThrough);
    writeRestart(this.stateDir, plan, headerLine());
    this.close();
    this.fd = openSync(this.file, 'a+');
    this.dir = dirIdentity(this.stateDir);
    return plan.lost;
  }

  private sameDir(): boolean {
    return sameDirectory(this.stateDir, this.dir);
  }

  /** Deletes the oldest sealed segments once the journal has dropped every event in them. */
  maybeCompact(journal: Journal): boolean {
    const keepFrom = journal.firstId ?? journal.lastId + 1;
    let n = 0;
    let dropped = 0;
    while (n < this.sealed.length && this.sealed[n]!.last < keepFrom) dropped += this.sealed[n++]!.events;
    if (n === 0) return false;
    const gone = this.sealed.splice(0, n);
    const firstOnDisk = this.sealed[0]?.first ?? (this.active.events > 0 ? this.active.first : journal.lastId + 1);
    this.writeManifest({
      ...this.manifest,
      dropped: this.manifest.dropped + dropped,
      firstId: firstOnDisk,
      operations: journal.operationsBefore(firstOnDisk),
    });
    // The manifest says these events are gone before their files go: a crash in between leaves files the loader skips.
    for (const s of gone) unlinkSync(s.path);
    this.segmentsDeleted += gone.length;
    return true;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Reads the manifest and the segments in order (load.ts), then takes over a version 1 file and opens for appending. */
  private scan(visit: Visit, begin: (m: Manifest) => void): Omit<LoadedJournal, 'events'> {
    const out: Omit<LoadedJournal, 'events'> = {
      dropped: 0,
      operations: [],
      tornBytes: 0,
      skippedLines: 0,
      lostIds: [],
      unusable: null,
      migrated: false,
      writeError: null,
    };
    this.held.clear();
    this.close();
    this.sealed = [];
    this.manifest = emptyManifest();
    this.dir = dirIdentity(this.stateDir);
    const read = readSegments(this.stateDir, begin, visit, out, (step) => this.writing(out, step));
    if (typeof read === 'string') return this.setAside(out, read);
    this.manifest = read.manifest;
    this.sealed = read.sealed;
    let { active, header } = read;
    if (out.writeError !== null) this.held.failure = out.writeError;
    if (header !== null && header.version === 1) {
      // The single file of version 1: its header becomes the manifest, the file the oldest sealed segment.
      out.migrated = true;
      const moved = this.writing(out, () => {
        if (read.fromVersion1) this.writeManifest(this.manifest);
        if (active.events > 0) renameSync(this.file, join(this.stateDir, sealedName(active.first)));
      });
      if (moved) {
        if (active.events > 0) {
          // The journal's references point at this object: it moves with its file.
          active.path = join(this.stateDir, sealedName(active.first));
          this.sealed.push(active);
        }
        header = null;
        active = emptySegment(this.file);
      }
    }
    this.active = active;
    if (header === null) {
      this.writing(out, () => writeFileAtomic(this.file, headerLine()));
      if (out.writeError === null) active.size = Buffer.byteLength(headerLine());
    }
    this.writing(out, () => (this.fd = openSync(this.file, 'a+')));
    out.dropped = this.manifest.dropped;
    out.operations = this.manifest.operations;
    return out;
  }

  /** A write during loading: a refusal is noted (loading goes on with what it read) and later ones are not tried. */
  private writing(out: { writeError: NodeJS.ErrnoException | null }, step: () => void): boolean {
    if (out.writeError !== null) return false;
    try {
      step();
      return true;
    } catch (err) {
      out.writeError = err as NodeJS.ErrnoException;
      this.held.failure = out.writeError;
      this.close();
      return false;
    }
  }

  private writeManifest(m: Manifest): void {
    this.manifest = m;
    writeManifest(this.manifestFile, m);
  }

  /** Seals the active segment and starts a new one. */
  private seal(): void {
    fsyncSync(this.fd!);
    this.close();
    // From here a failure leaves the segment closed: reopen() finds where it stopped.
    const path = join(this.stateDir, sealedName(this.active.first));
    renameSync(this.file, path);
    this.active.path = path;
    this.sealed.push(this.active);
    // The new header is written atomically: it fsyncs the directory, so the rename survives too.
    writeFileAtomic(this.file, headerLine());
    this.active = emptySegment(this.file, Buffer.byteLength(headerLine()));
    this.fd = openSync(this.file, 'a+');
  }

  /** Kept for whoever can read it; this agent starts a journal of its own. */
  private setAside(out: Omit<LoadedJournal, 'events'>, reason: string): Omit<LoadedJournal, 'events'> {
    out.unusable = reason;
    this.writing(out, () => setAsideFiles(this.stateDir));
    this.sealed = [];
    this.manifest = emptyManifest();
    this.active = emptySegment(this.file, Buffer.byteLength(headerLine()));
    // While the old files cannot be moved aside they stay; the first write that works replaces the active one.
    this.writing(out, () => writeFileAtomic(this.file, headerLine()));
    this.writing(out, () => (this.fd = openSync(this.file, 'a+')));
    if (out.writeError !== null) this.active.path = `${this.file}.not-yet-written`;
    return out;
  }
}
