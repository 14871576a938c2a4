/**
 * Loading the journal's segments: the manifest, then every sealed segment in
 * order, then the active one, each line checked before it counts as an event.
 * A damaged disk can leave any line anywhere: a line that is not JSON, not an
 * event, or out of id order is skipped and counted, and the events around it
 * are kept. A last line without its newline in the active segment (torn by a
 * crash mid-write) is cut off. A header or manifest of another format makes the
 * whole journal unusable (the store sets its files aside).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Operation, WatchEvent } from '../model.js';
import type { BodyRef } from './bodies.js';
import {
  emptyManifest,
  emptySegment,
  JOURNAL_FILE,
  MANIFEST_FILE,
  readHeader,
  readManifest,
  sealedSegments,
  versionProblem,
  type Header,
  type Manifest,
  type Segment,
} from './segments.js';

export interface LoadedJournal {
  events: WatchEvent[];
  dropped: number;
  /** Summaries of operations whose events were all dropped. */
  operations: Operation[];
  /** Bytes of a torn last line that were cut off. */
  tornBytes: number;
  /** Lines that were not events in order (skipped). */
  skippedLines: number;
  /**
   * Ids of events lost with those lines: the ids missing between the events
   * either side of a skipped line (first and last of each run, at most 32 runs).
   * They are not made again (see docs/durability.md).
   */
  lostIds: IdRange[];
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

export type Visit = (e: WatchEvent, chars: number, ref: BodyRef) => void;

/** Ids `from` to `to`, both included. */
export interface IdRange {
  from: number;
  to: number;
}

/** What loading counts, and the first write it was refused. */
export interface LoadCounts {
  tornBytes: number;
  skippedLines: number;
  lostIds: IdRange[];
  writeError: NodeJS.ErrnoException | null;
}

/** The segments as read: what the store goes on from. */
export interface ReadSegments {
  manifest: Manifest;
  /** No manifest, and the active segment is the single file of version 1. */
  fromVersion1: boolean;
  /** Sealed segments holding events, oldest first. */
  sealed: Segment[];
  active: Segment;
  /** The active segment's header; null when it has none (missing or empty). */
  header: Header | null;
}

/**
 * Reads the manifest and the segments in order, calling `begin` with the manifest
 * and then `visit` for every event kept. `repair` runs a write loading needs (a
 * sealed segment left empty by an interrupted compaction is deleted) and says
 * whether the disk took it. Returns a reason instead when the journal is not one
 * this agent reads.
 */
export function readSegments(
  stateDir: string,
  begin: (m: Manifest) => void,
  visit: Visit,
  out: LoadCounts,
  repair: (step: () => void) => boolean,
): ReadSegments | string {
  const file = join(stateDir, JOURNAL_FILE);
  const found = readManifest(join(stateDir, MANIFEST_FILE));
  if (typeof found === 'string') return found;
  let manifest = found ?? emptyManifest();
  const activeHeader = readHeader(file);
  if (typeof activeHeader === 'string') return activeHeader;
  const fromVersion1 = found === null && activeHeader?.version === 1;
  if (fromVersion1) manifest = { ...emptyManifest(), dropped: activeHeader.dropped ?? 0, operations: activeHeader.operations ?? [] };
  begin(manifest);

  let lastId = 0;
  // Lines skipped when the last event was taken: more now means a damaged line between it and the next.
  let skippedBefore = 0;
  const take = (segment: Segment, e: WatchEvent, chars: number, ref: BodyRef): void => {
    // A damaged disk can leave any line: only an event in order, with its operation, is one.
    if (typeof e !== 'object' || e === null || Array.isArray(e) || !Number.isInteger(e.id) || e.id <= lastId || typeof e.operation !== 'object' || e.operation === null) {
      out.skippedLines++;
      return;
    }
    const from = Math.max(lastId + 1, manifest.firstId);
    if (out.skippedLines > skippedBefore && e.id > from && out.lostIds.length < 32) out.lostIds.push({ from, to: e.id - 1 });
    skippedBefore = out.skippedLines;
    lastId = e.id;
    if (e.id < manifest.firstId) return;
    if (segment.events === 0) segment.first = e.id;
    segment.last = e.id;
    segment.events++;
    visit(e, chars, ref);
  };

  const sealed: Segment[] = [];
  for (const name of sealedSegments(stateDir)) {
    const segment = emptySegment(join(stateDir, name));
    const read = readSegment(segment, (e, chars, ref) => take(segment, e, chars, ref), out);
    if (read.header !== null && typeof read.header === 'string') return read.header;
    if (segment.events === 0) {
      // Dropped by a compaction that a crash interrupted: finish it (when the disk lets us).
      repair(() => unlinkSync(segment.path));
      continue;
    }
    sealed.push(segment);
  }

  const active = emptySegment(file);
  let header: Header | null = null;
  try {
    const read = readSegment(active, (e, chars, ref) => take(active, e, chars, ref), out, true);
    if (typeof read.header === 'string') return read.header;
    header = read.header;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { manifest, fromVersion1, sealed, active, header };
}

/**
 * Reads one segment line by line: a header line first (required in the active
 * segment), then events. Lines that are not JSON are skipped and counted; in the
 * active segment a last line without its newline (torn by a crash mid-write) is cut off.
 */
function readSegment(segment: Segment, visit: Visit, out: LoadCounts, isActive = false): { header: Header | string | null } {
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
