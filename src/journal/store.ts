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
 * Length: loading, appending, sealing, compacting and retrying after a refused
 * write all keep the same invariants on the same files (whole lines, ids in
 * order, the manifest ahead of deletions); they stay together so that each can
 * be checked against the others in one place.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Operation, WatchEvent } from '../model.js';
import { fsyncDirectory, writeFileAtomic } from './durable-file.js';
import type { EventBodies, Journal } from './journal.js';

export const JOURNAL_FORMAT = 'restore-watcher.journal';
export const JOURNAL_VERSION = 2;
/** The active segment, where new events are appended. */
export const JOURNAL_FILE = 'events.jsonl';
export const MANIFEST_FILE = 'journal.json';
const SEALED = /^events-(\d+)\.jsonl$/;
const sealedName = (firstId: number): string => `events-${String(firstId).padStart(12, '0')}.jsonl`;

interface Header {
  format: typeof JOURNAL_FORMAT;
  version: number;
  /** Version 1 only: now in the manifest. */
  dropped?: number;
  operations?: Operation[];
}

interface Manifest {
  format: typeof JOURNAL_FORMAT;
  version: number;
  /** Events dropped before the oldest segment kept. */
  dropped: number;
  /** Events with a smaller id are dropped, even if a segment holding them is still there (a crash mid-compaction). */
  firstId: number;
  /** Summaries of operations whose events were all dropped. */
  operations: Operation[];
}

export interface LoadedJournal {
  events: WatchEvent[];
  dropped: number;
  /** Summaries of operations whose events were all dropped. */
  operations: Operation[];
  /** Bytes of a torn last line that were cut off. */
  tornBytes: number;
  /** Lines that were not events in order (skipped). */
  skippedLines: number;
  /** Why the journal was not usable at all (another format); its files are set aside with `.unusable` added. */
  unusable: string | null;
  /** The journal was in the single-file format of version 1 and was taken over. */
  migrated: boolean;
  /**
   * Why the journal, once read, could not be written (opened for appending,
   * repaired, created, set aside: a read-only or full disk); null when it could.
   * The events read are there all the same, and new ones wait in memory until
   * `retry()` succeeds.
   */
  writeError: NodeJS.ErrnoException | null;
}

export interface JournalStoreOptions {
  /** Events per segment: a compaction frees at least this many lines at once. */
  compactSlack: number;
  /** Bytes per segment, whichever comes first (default 4 MiB). */
  segmentBytes?: number;
}

/** One segment file and what it holds. */
interface Segment {
  path: string;
  /** Id of its first event; 0 while the active segment is empty. */
  first: number;
  last: number;
  events: number;
  /** Size of the file, i.e. where the next line goes. */
  size: number;
}

/** Where an event's body is: a byte range of a segment. */
interface BodyRef {
  segment: Segment;
  position: number;
  length: number;
}

/** An event body the disk did not take: held in memory, and written by `retry()`. */
interface HeldBody {
  json: string;
  event: WatchEvent;
}

const isHeld = (ref: unknown): ref is HeldBody => typeof (ref as HeldBody).json === 'string';

type Visit = (e: WatchEvent, chars: number, ref: BodyRef) => void;

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
  /** The write the disk refused, until `retry()` succeeds. */
  private failure: NodeJS.ErrnoException | null = null;
  /** Bodies not written yet because of it, in id order. */
  private held: HeldBody[] = [];

  constructor(
    private readonly stateDir: string,
    private readonly options: JournalStoreOptions,
  ) {
    this.file = join(stateDir, JOURNAL_FILE);
    this.manifestFile = join(stateDir, MANIFEST_FILE);
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.active = { path: this.file, first: 0, last: 0, events: 0, size: 0 };
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
    return this.failure;
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
    if (this.failure !== null || this.fd === null) return this.hold(json, events, 0);
    const refs: unknown[] = [];
    try {
      this.write(json, events, refs);
    } catch (err) {
      this.failure = err as NodeJS.ErrnoException;
      return [...refs, ...this.hold(json, events, refs.length)];
    }
    return refs;
  }

  /**
   * After a refused write: writes what was held, in order. Throws while the disk
   * still refuses (what was held stays held). A no-op when nothing failed.
   */
  retry(): void {
    if (this.failure === null) return;
    try {
      this.reopen();
      const held = this.held;
      const refs: unknown[] = [];
      this.write(
        held.map((h) => h.json),
        held.map((h) => h.event),
        refs,
      );
      // Served from memory until the journal drops them; on disk from now on for the next load.
      this.held = [];
    } catch (err) {
      this.failure = err as NodeJS.ErrnoException;
      throw err;
    }
    this.failure = null;
  }

  /** The serialised events behind `refs`: one read per run of adjacent lines. */
  read(refs: readonly unknown[]): string[] {
    const out: string[] = [];
    let i = 0;
    while (i < refs.length) {
      if (isHeld(refs[i])) {
        out.push((refs[i] as HeldBody).json);
        i++;
        continue;
      }
      const first = refs[i] as BodyRef;
      let end = first.position + first.length;
      let j = i + 1;
      for (; j < refs.length; j++) {
        if (isHeld(refs[j])) break;
        const r = refs[j] as BodyRef;
        if (r.segment !== first.segment || r.position !== end) break;
        end += r.length;
      }
      const bytes = readRange(first.segment.path, first.position, end - first.position);
      let at = 0;
      for (let k = i; k < j; k++) {
        const length = (refs[k] as BodyRef).length;
        out.push(bytes.toString('utf8', at, at + length - 1));
        at += length;
      }
      i = j;
    }
    return out;
  }

  /** Makes what was appended durable; called before every checkpoint. Throws while writes are refused. */
  sync(): void {
    if (this.failure !== null) throw this.failure;
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
        // Lines joined once, not each copied with its newline first: a busy catch-up writes a million of them.
        writeAll(this.fd!, Buffer.from(`${pending.join('\n')}\n`));
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

  /** Bodies `from` on, held in memory until `retry()` writes them. */
  private hold(json: readonly string[], events: readonly WatchEvent[], from: number): HeldBody[] {
    const held: HeldBody[] = [];
    for (let i = from; i < json.length; i++) held.push({ json: json[i]!, event: events[i]! });
    this.held.push(...held);
    return held;
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
      this.active = { path: this.file, first: 0, last: 0, events: 0, size: Buffer.byteLength(headerLine()) };
    } else {
      truncateSync(this.file, this.active.size);
    }
    this.fd = openSync(this.file, 'a');
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

  /** Reads the manifest and the segments in order, calling `visit` for every event kept. */
  private scan(visit: Visit, begin: (m: Manifest) => void): Omit<LoadedJournal, 'events'> {
    const out: Omit<LoadedJournal, 'events'> = {
      dropped: 0,
      operations: [],
      tornBytes: 0,
      skippedLines: 0,
      unusable: null,
      migrated: false,
      writeError: null,
    };
    this.failure = null;
    this.held = [];
    this.close();
    this.sealed = [];
    this.manifest = emptyManifest();
    const manifest = this.readManifest();
    if (typeof manifest === 'string') return this.setAside(out, manifest);
    if (manifest !== null) this.manifest = manifest;
    const activeHeader = readHeader(this.file);
    if (typeof activeHeader === 'string') return this.setAside(out, activeHeader);
    const fromVersion1 = manifest === null && activeHeader?.version === 1;
    if (fromVersion1) this.manifest = { ...emptyManifest(), dropped: activeHeader.dropped ?? 0, operations: activeHeader.operations ?? [] };
    begin(this.manifest);

    let lastId = 0;
    const take = (segment: Segment, e: WatchEvent, chars: number, ref: BodyRef): void => {
      // A damaged disk can leave any line: only an event in order, with its operation, is one.
      if (typeof e !== 'object' || e === null || Array.isArray(e) || !Number.isInteger(e.id) || e.id <= lastId || typeof e.operation !== 'object' || e.operation === null) {
        out.skippedLines++;
        return;
      }
      lastId = e.id;
      if (e.id < this.manifest.firstId) return;
      if (segment.events === 0) segment.first = e.id;
      segment.last = e.id;
      segment.events++;
      visit(e, chars, ref);
    };

    for (const name of sealedSegments(this.stateDir)) {
      const segment: Segment = { path: join(this.stateDir, name), first: 0, last: 0, events: 0, size: 0 };
      const read = readSegment(segment, (e, chars, ref) => take(segment, e, chars, ref), out);
      if (read.header !== null && typeof read.header === 'string') return this.setAside(out, read.header);
      if (segment.events === 0) {
        // Dropped by a compaction that a crash interrupted: finish it (when the disk lets us).
        this.writing(out, () => unlinkSync(segment.path));
        continue;
      }
      this.sealed.push(segment);
    }

    let active: Segment = { path: this.file, first: 0, last: 0, events: 0, size: 0 };
    let header: Header | null = null;
    try {
      const read = readSegment(active, (e, chars, ref) => take(active, e, chars, ref), out, true);
      if (typeof read.header === 'string') return this.setAside(out, read.header);
      header = read.header;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (out.writeError !== null) this.failure = out.writeError;
    if (header !== null && header.version === 1) {
      // The single file of version 1: its header becomes the manifest, the file the oldest sealed segment.
      out.migrated = true;
      const moved = this.writing(out, () => {
        if (fromVersion1) this.writeManifest(this.manifest);
        if (active.events > 0) renameSync(this.file, join(this.stateDir, sealedName(active.first)));
      });
      if (moved) {
        if (active.events > 0) {
          // The journal's references point at this object: it moves with its file.
          active.path = join(this.stateDir, sealedName(active.first));
          this.sealed.push(active);
        }
        header = null;
        active = { path: this.file, first: 0, last: 0, events: 0, size: 0 };
      }
    }
    this.active = active;
    if (header === null) {
      this.writing(out, () => writeFileAtomic(this.file, headerLine()));
      if (out.writeError === null) active.size = Buffer.byteLength(headerLine());
    }
    this.writing(out, () => (this.fd = openSync(this.file, 'a')));
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
      this.failure = out.writeError;
      this.close();
      return false;
    }
  }

  private readManifest(): Manifest | null | string {
    let text: string;
    try {
      text = readFileSync(this.manifestFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let m: Partial<Manifest>;
    try {
      m = JSON.parse(text) as Partial<Manifest>;
    } catch {
      return 'the manifest is not JSON';
    }
    const problem = versionProblem(m);
    if (problem !== null) return `manifest: ${problem}`;
    return { ...emptyManifest(), ...m } as Manifest;
  }

  private writeManifest(m: Manifest): void {
    this.manifest = m;
    writeFileAtomic(this.manifestFile, `${JSON.stringify(m)}\n`);
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
    this.active = { path: this.file, first: 0, last: 0, events: 0, size: Buffer.byteLength(headerLine()) };
    this.fd = openSync(this.file, 'a');
  }

  /** Kept for whoever can read it; this agent starts a journal of its own. */
  private setAside(out: Omit<LoadedJournal, 'events'>, reason: string): Omit<LoadedJournal, 'events'> {
    out.unusable = reason;
    const files = [MANIFEST_FILE, JOURNAL_FILE, ...sealedSegments(this.stateDir)];
    this.writing(out, () => {
      for (const name of files) {
        try {
          renameSync(join(this.stateDir, name), join(this.stateDir, `${name}.unusable`));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      fsyncDirectory(this.stateDir);
    });
    this.sealed = [];
    this.manifest = emptyManifest();
    this.active = { path: this.file, first: 0, last: 0, events: 0, size: Buffer.byteLength(headerLine()) };
    // While the old files cannot be moved aside they stay; the first write that works replaces the active one.
    this.writing(out, () => writeFileAtomic(this.file, headerLine()));
    this.writing(out, () => (this.fd = openSync(this.file, 'a')));
    if (out.writeError !== null) this.active.path = `${this.file}.not-yet-written`;
    return out;
  }
}

function emptyManifest(): Manifest {
  return { format: JOURNAL_FORMAT, version: JOURNAL_VERSION, dropped: 0, firstId: 0, operations: [] };
}

function headerLine(): string {
  return `${JSON.stringify({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION })}\n`;
}

function versionProblem(h: { format?: unknown; version?: unknown }): string | null {
  if (h.format !== JOURNAL_FORMAT || typeof h.version !== 'number') return 'not a journal header';
  if (h.version !== JOURNAL_VERSION && h.version !== 1) return `format version ${h.version}, this agent reads ${JOURNAL_VERSION} and 1`;
  return null;
}

/** The header of the active segment: null when there is none, a reason when it is not one this agent reads. */
function readHeader(path: string): Header | string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    // The first line; in version 1 it holds summaries and can be long.
    const parts: Buffer[] = [];
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) return pos === 0 ? null : 'the first line is not a journal header';
      const nl = chunk.subarray(0, n).indexOf(0x0a);
      parts.push(Buffer.from(chunk.subarray(0, nl === -1 ? n : nl)));
      pos += n;
      if (nl !== -1) break;
    }
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      return 'the first line is not a journal header';
    }
    return versionProblem((value ?? {}) as Header) ?? (value as Header);
  } finally {
    closeSync(fd);
  }
}

function sealedSegments(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => SEALED.test(name))
    .sort((a, b) => Number(SEALED.exec(a)![1]) - Number(SEALED.exec(b)![1]));
}

/**
 * Reads one segment line by line: a header line first (required in the active
 * segment), then events. Lines that are not JSON are skipped and counted; in the
 * active segment a last line without its newline (torn by a crash mid-write) is cut off.
 */
function readSegment(
  segment: Segment,
  visit: (e: WatchEvent, chars: number, ref: BodyRef) => void,
  out: { tornBytes: number; skippedLines: number; writeError: NodeJS.ErrnoException | null },
  isActive = false,
): { header: Header | string | null } {
  let fd: number;
  try {
    fd = openSync(segment.path, isActive ? 'r+' : 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!isActive || (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS')) throw err;
    // Readable but not writable: read it, and say it cannot be written.
    out.writeError ??= err as NodeJS.ErrnoException;
    fd = openSync(segment.path, 'r');
  }
  let header: Header | string | null = null;
  let goodEnd = 0;
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let rest = Buffer.alloc(0);
    let pos = 0;
    let first = true;
    read: while (pos < size) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      pos += n;
      const buf = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      let nl: number;
      while ((nl = buf.indexOf(0x0a, start)) !== -1) {
        const lineStart = goodEnd;
        const line = buf.toString('utf8', start, nl);
        goodEnd += nl + 1 - start;
        start = nl + 1;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          // A crash mid-write leaves a bad last line; a damaged disk, one anywhere: skipped and counted.
          out.skippedLines++;
          first = false;
          continue;
        }
        const isHeader = typeof value === 'object' && value !== null && 'format' in value;
        if (first && isHeader) {
          first = false;
          header = versionProblem(value as Header) ?? (value as Header);
          if (typeof header === 'string') break read;
          continue;
        }
        if (first && isActive) {
          header = 'the first line is not a journal header';
          break read;
        }
        first = false;
        visit(value as WatchEvent, line.length, { segment, position: lineStart, length: goodEnd - lineStart });
      }
      // Copied: `chunk` is reused by the next read.
      rest = Buffer.from(buf.subarray(start));
    }
    if (typeof header !== 'string') {
      const torn = size - goodEnd;
      if (torn > 0 && isActive) {
        out.tornBytes = torn;
        try {
          if (out.writeError === null) ftruncateSync(fd, goodEnd);
        } catch (err) {
          out.writeError = err as NodeJS.ErrnoException;
        }
      }
    }
    segment.size = goodEnd;
  } finally {
    closeSync(fd);
  }
  return { header };
}

function readRange(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, position + done);
      if (n === 0) throw new Error(`${path}: ended before byte ${position + length}`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
