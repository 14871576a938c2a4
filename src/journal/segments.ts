/**
 * The journal's files on disk and their format: the active segment
 * `events.jsonl` (a header line with the format and its version, then one event
 * per line), sealed segments `events-<first id>.jsonl`, and the manifest
 * `journal.json`. What a segment is in memory (its path, ids and size), and the
 * byte-level reads and writes the store does on them.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Operation } from '../model.js';
import { fsyncDirectory, writeFileAtomic } from './durable-file.js';

export const JOURNAL_FORMAT = 'restore-watcher.journal';
export const JOURNAL_VERSION = 2;
/** The active segment, where new events are appended. */
export const JOURNAL_FILE = 'events.jsonl';
export const MANIFEST_FILE = 'journal.json';
const SEALED = /^events-(\d+)\.jsonl$/;
export const sealedName = (firstId: number): string => `events-${String(firstId).padStart(12, '0')}.jsonl`;

export interface Header {
  format: typeof JOURNAL_FORMAT;
  version: number;
  /** Version 1 only: now in the manifest. */
  dropped?: number;
  operations?: Operation[];
}

export interface Manifest {
  format: typeof JOURNAL_FORMAT;
  version: number;
  /** Events dropped before the oldest segment kept. */
  dropped: number;
  /** Events with a smaller id are dropped, even if a segment holding them is still there (a crash mid-compaction). */
  firstId: number;
  /** Summaries of operations whose events were all dropped. */
  operations: Operation[];
}

/** One segment file and what it holds. */
export interface Segment {
  path: string;
  /** Id of its first event; 0 while the active segment is empty. */
  first: number;
  last: number;
  events: number;
  /** Size of the file, i.e. where the next line goes. */
  size: number;
}

/** A segment with nothing in it yet (its size is set once its header is known). */
export function emptySegment(path: string, size = 0): Segment {
  return { path, first: 0, last: 0, events: 0, size };
}

export function emptyManifest(): Manifest {
  return { format: JOURNAL_FORMAT, version: JOURNAL_VERSION, dropped: 0, firstId: 0, operations: [] };
}

export function headerLine(): string {
  return `${JSON.stringify({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION })}\n`;
}

export function versionProblem(h: { format?: unknown; version?: unknown }): string | null {
  if (h.format !== JOURNAL_FORMAT || typeof h.version !== 'number') return 'not a journal header';
  if (h.version !== JOURNAL_VERSION && h.version !== 1) return `format version ${h.version}, this agent reads ${JOURNAL_VERSION} and 1`;
  return null;
}

/** The manifest: null when there is none, a reason when it is not one this agent reads. */
export function readManifest(path: string): Manifest | null | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
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

export function writeManifest(path: string, m: Manifest): void {
  writeFileAtomic(path, `${JSON.stringify(m)}\n`);
}

/** The header of the active segment: null when there is none, a reason when it is not one this agent reads. */
export function readHeader(path: string): Header | string | null {
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

/** Names of the sealed segments in `dir`, oldest first. */
export function sealedSegments(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => SEALED.test(name))
    .sort((a, b) => Number(SEALED.exec(a)![1]) - Number(SEALED.exec(b)![1]));
}

/** `length` bytes at `position` of the file at a path, or of an open descriptor (which stays open). */
export function readRange(source: string | number, position: number, length: number): Buffer {
  const fd = typeof source === 'number' ? source : openSync(source, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, position + done);
      if (n === 0) throw new Error(`${String(source)}: ended before byte ${position + length}`);
      done += n;
    }
    return buf;
  } finally {
    if (typeof source !== 'number') closeSync(fd);
  }
}

/**
 * The lines encoded straight into one buffer, each followed by a newline: joining
 * them first would make a string as large as the batch, which the collector frees
 * only in a full collection.
 */
export function linesBuffer(lines: readonly string[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const line of lines) {
    at += out.write(line, at);
    out[at++] = 0x0a;
  }
  return out;
}

export function writeAll(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Renames every journal file in `dir` with `.unusable` added, so that a journal of another format is kept for whoever can read it. */
export function setAsideFiles(dir: string): void {
  for (const name of [MANIFEST_FILE, JOURNAL_FILE, ...sealedSegments(dir)]) {
    try {
      renameSync(join(dir, name), join(dir, `${name}.unusable`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  fsyncDirectory(dir);
}
