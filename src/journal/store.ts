/**
 * The journal on disk: an append-only JSON Lines file in the state directory, one
 * event per line after a header line that holds the format version, how many
 * events were dropped before the first one kept, and the summaries of restores and
 * backups whose events were all dropped (so `/restores` still lists them).
 *
 * fsync policy: events are written (write(2), no fsync) as soon as they are made,
 * before any checkpoint covering the log bytes they came from; a killed agent loses
 * nothing, since the kernel has them. The file is fsynced before every checkpoint
 * is written, so after a power loss the durable checkpoint never covers events
 * that are not durable too: what a crash can cost is only events after the last
 * checkpoint, and those are regenerated from the log, with the same ids, on restart.
 * A line torn by a crash mid-write is cut off when the file is loaded.
 *
 * Bounded: when the file holds a tenth more events than the in-memory journal
 * keeps, it is rewritten (atomically) with what the journal keeps.
 */
import { closeSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Operation, WatchEvent } from '../model.js';
import { writeFileAtomic } from './durable-file.js';
import type { Journal } from './journal.js';

export const JOURNAL_FORMAT = 'restore-watcher.journal';
export const JOURNAL_VERSION = 1;
export const JOURNAL_FILE = 'events.jsonl';

interface Header {
  format: typeof JOURNAL_FORMAT;
  version: number;
  dropped: number;
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
  /** Why the file was not usable at all (another format); it is set aside as `events.jsonl.unusable`. */
  unusable: string | null;
  /**
   * Why the file, once read, could not be opened for writing, repaired or created
   * (a read-only or full disk); null when it was. The events read are returned all
   * the same, and nothing is appended until the file is rewritten (compact).
   */
  writeError: NodeJS.ErrnoException | null;
}

export interface JournalStoreOptions {
  /** Lines on disk beyond what the journal keeps before the file is compacted. */
  compactSlack: number;
}

/** Owns the journal file: loads it, appends events, fsyncs and compacts it. */
export class JournalStore {
  readonly file: string;
  private fd: number | null = null;
  private lines = 0;
  compactions = 0;

  constructor(
    stateDir: string,
    private readonly options: JournalStoreOptions,
  ) {
    this.file = join(stateDir, JOURNAL_FILE);
  }

  /** Reads the file (cutting off a torn last line) and opens it for appending. */
  load(): LoadedJournal {
    const out: LoadedJournal = {
      events: [],
      dropped: 0,
      operations: [],
      tornBytes: 0,
      skippedLines: 0,
      unusable: null,
      writeError: null,
    };
    /** A write the disk refused: noted, and the load goes on with what it read. */
    const writing = (step: () => void): void => {
      if (out.writeError !== null) return;
      try {
        step();
      } catch (err) {
        out.writeError = err as NodeJS.ErrnoException;
        this.close();
      }
    };
    let fd: number;
    try {
      fd = openSync(this.file, 'r+');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        writing(() => this.rewrite([], 0, []));
        return out;
      }
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw err;
      // Readable but not writable: read it, and let the caller know it cannot be written.
      out.writeError = err as NodeJS.ErrnoException;
      fd = openSync(this.file, 'r');
    }
    let header: Header | null = null;
    let goodEnd = 0;
    try {
      const size = fstatSync(fd).size;
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      let rest = Buffer.alloc(0);
      let pos = 0;
      let lastId = 0;
      read: while (pos < size) {
        const n = readSync(fd, chunk, 0, chunk.length, pos);
        if (n === 0) break;
        pos += n;
        let buf = Buffer.concat([rest, chunk.subarray(0, n)]);
        let start = 0;
        let nl: number;
        while ((nl = buf.indexOf(0x0a, start)) !== -1) {
          const line = buf.toString('utf8', start, nl);
          const lineEnd = goodEnd + (nl + 1 - start);
          start = nl + 1;
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            // A crash mid-write leaves a bad last line; a damaged disk, one anywhere: skipped and counted.
            out.skippedLines++;
            goodEnd = lineEnd;
            continue;
          }
          goodEnd = lineEnd;
          if (typeof value !== 'object' || value === null || Array.isArray(value)) {
            if (header === null) {
              out.unusable = 'the first line is not a journal header';
              break read;
            }
            out.skippedLines++;
            continue;
          }
          if (header === null) {
            const h = value as Partial<Header>;
            if (h.format !== JOURNAL_FORMAT || typeof h.version !== 'number') {
              out.unusable = 'the first line is not a journal header';
              break read;
            }
            if (h.version !== JOURNAL_VERSION) {
              out.unusable = `format version ${h.version}, this agent reads ${JOURNAL_VERSION}`;
              break read;
            }
            header = h as Header;
            continue;
          }
          const e = value as WatchEvent;
          if (!Number.isInteger(e.id) || e.id <= lastId || typeof e.operation !== 'object' || e.operation === null) {
            out.skippedLines++;
            continue;
          }
          lastId = e.id;
          out.events.push(e);
        }
        rest = buf.subarray(start);
        buf = Buffer.alloc(0);
      }
      if (out.unusable === null) {
        out.tornBytes = size - goodEnd;
        if (out.tornBytes > 0) writing(() => ftruncateSync(fd, goodEnd));
      }
    } finally {
      closeSync(fd);
    }
    if (out.unusable !== null) {
      // Kept for whoever can read it; this agent starts a journal of its own.
      writing(() => renameSync(this.file, `${this.file}.unusable`));
      writing(() => this.rewrite([], 0, []));
      return out;
    }
    if (header === null) {
      writing(() => this.rewrite([], 0, []));
      return out;
    }
    out.dropped = header.dropped;
    out.operations = header.operations ?? [];
    this.lines = out.events.length + out.skippedLines;
    writing(() => (this.fd = openSync(this.file, 'a')));
    return out;
  }

  /** Writes events at the end of the file (no fsync: see the policy above). */
  append(events: readonly WatchEvent[]): void {
    if (events.length === 0 || this.fd === null) return;
    let text = '';
    for (const e of events) text += `${JSON.stringify(e)}\n`;
    const bytes = Buffer.from(text);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.lines += events.length;
  }

  /** Makes what was appended durable; called before every checkpoint. */
  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Rewrites the file with what the journal keeps when it holds too much more. */
  maybeCompact(journal: Journal): boolean {
    if (this.fd === null || this.lines - journal.size < this.options.compactSlack) return false;
    this.compact(journal);
    return true;
  }

  compact(journal: Journal): void {
    const kept = new Set<string>();
    for (const e of journal.all()) kept.add(e.operation.id);
    const orphans = journal.allOperations().filter((op) => !kept.has(op.id));
    this.rewrite(journal.all(), journal.dropped, orphans);
    this.compactions++;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private rewrite(events: readonly WatchEvent[], dropped: number, operations: Operation[]): void {
    const header: Header = { format: JOURNAL_FORMAT, version: JOURNAL_VERSION, dropped, operations };
    let text = `${JSON.stringify(header)}\n`;
    for (const e of events) text += `${JSON.stringify(e)}\n`;
    this.close();
    writeFileAtomic(this.file, text);
    this.lines = events.length;
    this.fd = openSync(this.file, 'a');
  }
}
