/**
 * Finds, after a restart, where the checkpointed content went: still in the file
 * at the path (same inode, and it still holds the checkpoint's fingerprint), or,
 * rotated or truncated while we were down, in the rotated copy that holds it, read
 * from the checkpoint's offset (then every newer copy) on the way.
 */
import type { FileHandle } from 'node:fs/promises';
import type { RotatedCopies } from './copies.js';
import { Fingerprinter, holds } from './fingerprint.js';
import { openLog } from './fs.js';
import { identityOf, sameFile, type FileIdentity } from './identity.js';
import type { ResumePoint } from './sink.js';

export type Resumption =
  /** The path is there but cannot be read: whether it holds the content cannot be told yet. */
  | { kind: 'unreadable'; reason: string }
  /** The file at the path holds it: carry on there. */
  | { kind: 'in-place'; handle: FileHandle; identity: FileIdentity; position: Fingerprinter }
  /**
   * Not at the path: `copy` is the copy it was read from (null: found nowhere),
   * `recovered` the bytes handed on from copies; `live` the file now at the path, if any.
   */
  | { kind: 'moved'; copy: string | null; recovered: number; live: { handle: FileHandle; identity: FileIdentity } | null };

export async function findResumption(path: string, r: ResumePoint, copies: RotatedCopies): Promise<Resumption> {
  const mark = { head: r.head ?? Buffer.alloc(0), tail: r.tail ?? Buffer.alloc(0), offset: r.offset };
  const opened = await openLog(path);
  if (opened.kind === 'unreadable') return opened;
  const live = opened.kind === 'open' ? { handle: opened.handle, identity: identityOf(opened.stats) } : null;
  // Another inode at the path is another file, whatever its first bytes say.
  if (opened.kind === 'open' && sameFile(live!.identity, r.identity) && (await holds(opened.handle, opened.stats.size, mark))) {
    return { kind: 'in-place', ...live!, position: await Fingerprinter.at(opened.handle, r.offset) };
  }
  const { match, recovered } =
    r.head !== undefined ? await copies.continueFrom({ ...mark, identity: r.identity }, false) : { match: null, recovered: 0 };
  return { kind: 'moved', copy: match?.path ?? null, recovered, live };
}
