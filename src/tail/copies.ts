/**
 * Owns what the follower knows of the log's rotated copies (`<log>.1` … `<log>.N`,
 * maybe gzipped): which contents it has accounted for, and reading from them what
 * it has not read.
 *
 * A copy is known by its head (its first bytes), not by its name or inode: names
 * shift at every rotation and compression makes a new file. The heads of copies
 * read, or there before the current content began, are remembered (and kept in the
 * checkpoint, so a copy made while the agent was down is recognised as new). A copy
 * whose head is not known was copied or rotated away before the follower could read
 * it: it is queued, oldest first, before the current file. After a truncation or a
 * restart, the copy holding the content we were reading is found by its fingerprint
 * and read from our offset, then every newer copy whole.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ContentMark } from './fingerprint.js';
import { preadExactly } from './fs.js';
import { FINGERPRINT_BYTES, identityOf, sameFile, startsWith, type FileIdentity } from './identity.js';
import { copiesSignature, headOf, listCopies, openCopy, readAll, readRest, type RotatedCopy } from './rotated.js';
import type { FollowerCounters, FollowerSink } from './sink.js';

/** A file to read after the current one, opened when it was found so that no rotation can take it away. */
export interface QueuedFile {
  handle: FileHandle;
  identity: FileIdentity;
  path: string;
  gz: boolean;
}

/** Tells whether a rotated copy is the current file itself (renamed, or renamed and compressed). */
export type IsCurrent = (copy: RotatedCopy, head: Buffer | null) => boolean;

const KNOWN_HEADS = 64;

export class RotatedCopies {
  /** Heads of rotated copies already accounted for (read, or there before the current content began). */
  private readonly knownHeads = new Set<string>();
  private readonly headCache = new Map<string, Buffer>();
  /** The copies as last looked at while nothing had been read of the current file. */
  private seen: string | null = null;
  private fromCheckpoint = false;

  constructor(
    private readonly path: string,
    private readonly maxCopies: number,
    private readonly sink: Pick<FollowerSink, 'data' | 'switchFile' | 'notice'>,
    private readonly counters: Pick<FollowerCounters, 'copiesRead' | 'bytesRecovered'>,
  ) {}

  /** Heads of the copies whose content has been read or was there before; a checkpoint keeps them. */
  known(): Buffer[] {
    return [...this.knownHeads].map((key) => Buffer.from(key, 'base64'));
  }

  /** After a restart: the heads a checkpoint kept (see `known`). No copy present is then taken as history. */
  rememberKnown(heads: readonly Buffer[]): void {
    for (const head of heads) this.remember(head);
    this.fromCheckpoint = true;
  }

  /** True once the known heads came from a checkpoint. */
  get restored(): boolean {
    return this.fromCheckpoint;
  }

  /** `head` is a content accounted for: a copy starting with it is not read. */
  remember(head: Buffer): void {
    if (head.length === 0) return;
    const key = head.toString('base64');
    this.knownHeads.delete(key);
    this.knownHeads.add(key);
    if (this.knownHeads.size > KNOWN_HEADS) this.knownHeads.delete(this.knownHeads.values().next().value!);
  }

  /** The next `queueUnseen` looks at the copies even if they look as they did. */
  lookAgain(): void {
    this.seen = null;
  }

  /** The copies present now are accounted for: the current content began after them. */
  async learn(): Promise<void> {
    const copies = await listCopies(this.path, this.maxCopies);
    for (const copy of copies) {
      const head = await this.headOfCopy(copy);
      if (head !== null && head.length > 0) this.remember(head);
    }
    this.seen = copiesSignature(copies);
  }

  /**
   * Nothing has been read of the current content. A rotated copy we know nothing
   * of, older than the current file, was copied and emptied (or rotated away)
   * before we could read it. Such copies are opened and returned, oldest first,
   * to be read before the current file as files of their own; empty when there
   * are none.
   */
  async queueUnseen(cur: { handle: FileHandle; identity: FileIdentity }, atPath: boolean): Promise<QueuedFile[]> {
    const copies = await listCopies(this.path, this.maxCopies);
    const signature = copiesSignature(copies);
    if (signature === this.seen) return [];
    this.seen = signature;
    const isCurrent = await this.isCurrentContent(cur);
    const heads = new Map<RotatedCopy, Buffer | null>();
    for (const copy of copies) heads.set(copy, await this.headOfCopy(copy));
    // The current file itself may be among them (renamed, maybe compressed): only older copies come before it.
    const ours = copies.find((c) => isCurrent(c, heads.get(c) ?? null));
    if (!atPath && ours === undefined) {
      // Deleted: its place among the copies is unknown, but they all came after it was opened.
      this.seen = null;
      return [];
    }
    const unseen = copies.filter((copy) => {
      const head = heads.get(copy);
      if (ours !== undefined && copy.n <= ours.n) return false;
      if (head === null || head === undefined || head.length === 0) return false;
      return !this.knownHeads.has(head.toString('base64'));
    });
    const before: QueuedFile[] = [];
    for (const copy of unseen.reverse()) {
      const handle = await openCopy(copy);
      if (handle !== null) before.push({ handle, identity: identityOf(await handle.stat()), path: copy.path, gz: copy.gz });
    }
    return before;
  }

  /** Tells whether a rotated copy is the current file itself (renamed, or renamed and compressed). */
  async isCurrentContent(cur: { handle: FileHandle; identity: FileIdentity }): Promise<IsCurrent> {
    const live = await preadExactly(cur.handle, 0, FINGERPRINT_BYTES);
    // A copy of the current content (being made, or the file renamed and compressed) holds
    // no more than the file: the file starts with the copy's whole head.
    return (copy, head) => sameFile(copy.identity, cur.identity) || (head !== null && head.length > 0 && startsWith(live, head));
  }

  /**
   * Finds the rotated copy whose content is the one `expect` describes (by its
   * bytes, or by its inode when too few had been read) and hands on what follows
   * its offset, then every newer copy whole. `continuing`: the bytes continue the
   * content the sink has; otherwise the sink is switched to the copy first. Newer
   * copies are read up to the current file's own (`newer.isCurrent`), and only
   * with `newer.readNewer` when the current file is not among them.
   */
  async continueFrom(
    expect: ContentMark & { identity?: FileIdentity },
    continuing: boolean,
    newer: { isCurrent: IsCurrent; readNewer: boolean } = { isCurrent: () => false, readNewer: true },
  ): Promise<{ match: RotatedCopy | null; recovered: number }> {
    const copies = await listCopies(this.path, this.maxCopies);
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
        let switched = continuing;
        const from = { path: copy.path, identity: copy.identity };
        n = await readRest(handle, copy.gz, expect, (chunk, offset) => {
          if (!switched) this.sink.switchFile(from, expect.offset);
          switched = true;
          this.sink.data(chunk, offset, from);
        });
        if (n !== null) this.remember(await headOf(handle, copy.gz));
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
        for (const c of currentAmong === -1 ? later : later.slice(0, currentAmong)) recovered += await this.readWhole(c);
      }
      return { match: copy, recovered };
    }
    return { match: null, recovered: 0 };
  }

  /** At a rotation of `cur`: opens the copies rotated after it, oldest first, so none can be taken away. */
  async rotatedAfter(cur: FileIdentity): Promise<QueuedFile[]> {
    const copies = await listCopies(this.path, this.maxCopies);
    const ours = copies.find((c) => !c.gz && sameFile(c.identity, cur));
    const out: QueuedFile[] = [];
    if (ours === undefined) return out;
    for (const copy of copies.filter((c) => c.n < ours.n).reverse()) {
      const handle = await openCopy(copy);
      if (handle !== null) out.push({ handle, identity: identityOf(await handle.stat()), path: copy.path, gz: copy.gz });
    }
    return out;
  }

  /** Reads a queued compressed copy whole, unless its content is accounted for; closes it. */
  async readQueued(file: QueuedFile): Promise<void> {
    try {
      const head = await headOf(file.handle, true);
      if (head.length > 0 && !this.knownHeads.has(head.toString('base64'))) {
        const bytes = await this.deliverWhole(file.handle, true, { path: file.path, identity: file.identity }, head);
        this.counters.bytesRecovered += bytes;
      }
    } finally {
      await file.handle.close();
    }
  }

  /** Reads a rotated copy whole (unless already accounted for); returns the bytes read. */
  private async readWhole(copy: RotatedCopy): Promise<number> {
    const handle = await openCopy(copy);
    if (handle === null) return 0;
    try {
      const head = await headOf(handle, copy.gz);
      if (head.length === 0 || this.knownHeads.has(head.toString('base64'))) return 0;
      return await this.deliverWhole(handle, copy.gz, { path: copy.path, identity: copy.identity }, head);
    } finally {
      await handle.close();
    }
  }

  private async deliverWhole(handle: FileHandle, gz: boolean, from: { path: string; identity: FileIdentity }, head: Buffer): Promise<number> {
    this.sink.switchFile(from, 0);
    const bytes = await readAll(handle, gz, (chunk, offset) => this.sink.data(chunk, offset, from));
    this.remember(head);
    this.counters.copiesRead++;
    this.sink.notice({ kind: 'copy-read', path: this.path, from: from.path, offset: 0, bytes });
    return bytes;
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
}
