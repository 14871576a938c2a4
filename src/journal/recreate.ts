/**
 * Starting the journal again in a state directory that was deleted under the
 * store (rm -rf) and made again, with its lock. Appends to the deleted active
 * segment still succeed, so only the directory says the state is gone: another
 * directory at the path, or none. The sealed segments went with it, and the
 * bodies of their events; the active segment's bytes are still there while it is
 * open. The journal starts again with a manifest that counts what went as dropped,
 * and the active segment written back byte for byte, so the journal's references
 * to it hold; segments another agent left there meanwhile are not this journal's.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Journal } from './journal.js';
import { readRange, sealedSegments, writeManifest, JOURNAL_FILE, MANIFEST_FILE, type Manifest, type Segment } from './segments.js';
import { sameFile } from '../tail/identity.js';
import { dirIdentity, writeFileAtomic, type DirIdentity } from './durable-file.js';

/** What starting again keeps and what went. */
export interface Restart {
  /** The active segment's bytes, header included; null when it was closed already (its events went too). */
  kept: Buffer | null;
  /** Events that went with the directory, and the newest of their ids. */
  lost: number;
  lostThrough: number;
  manifest: Manifest;
}

/** What starting again keeps: the open active segment, if it is still open. */
export function planRestart(fd: number | null, activeIsOpen: boolean, active: Segment, sealed: readonly Segment[], manifest: Manifest, journal?: Journal): Restart {
  const kept = fd !== null && activeIsOpen ? readRange(fd, 0, active.size) : null;
  const went = kept !== null ? sealed : [...sealed, active];
  const lostThrough = Math.max(0, ...went.map((s) => s.last));
  const lost = went.reduce((n, s) => n + s.events, 0);
  const firstId = Math.max(manifest.firstId, lostThrough + 1);
  return {
    kept,
    lost,
    lostThrough,
    manifest: { ...manifest, dropped: manifest.dropped + lost, firstId, operations: journal?.operationsBefore(firstId) ?? manifest.operations },
  };
}

/** Writes the journal's files anew in `stateDir`: the manifest, then the active segment (`header` when nothing was kept). */
export function writeRestart(stateDir: string, restart: Restart, header: string): void {
  for (const name of sealedSegments(stateDir)) unlinkSync(join(stateDir, name));
  writeManifest(join(stateDir, MANIFEST_FILE), restart.manifest);
  writeFileAtomic(join(stateDir, JOURNAL_FILE), restart.kept ?? header);
}

/** Whether the directory at `dir` is the one known as `known` (always, when none is known). */
export function sameDirectory(dir: string, known: DirIdentity | null): boolean {
  if (known === null) return true;
  return sameFile(dirIdentity(dir), known);
}

export function directoryGone(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`state directory ${dir} was deleted`), { code: 'ENOENT' });
}
