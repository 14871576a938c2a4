/**
 * The rotated copies of a log as logrotate leaves them: `<log>.1` (the newest) to
 * `<log>.N`, each possibly gzipped (`<log>.1.gz`). The follower reads from them
 * what it had not read of its file when the file was emptied by copytruncate, when
 * several rotations happened between two checks, or when the file was rotated while
 * the agent was down. A copy is recognised by its content, not its name: it must
 * start with the head we saw and hold the tail we saw just before our offset.
 * Uncompressed copies are read by offset; compressed ones are gunzipped as a
 * stream, so memory stays bounded whatever their size.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { holds, type ContentMark } from './fingerprint.js';
import { openIfReadable, preadExactly, statOrNull } from './fs.js';
import { FINGERPRINT_BYTES, identityOf, type FileIdentity } from './identity.js';

export interface RotatedCopy {
  /** Its rotation number: 1 for the newest. */
  n: number;
  path: string;
  gz: boolean;
  identity: FileIdentity;
  /** Size on disk (compressed size for `.gz`). */
  size: number;
  mtimeMs: number;
}

/** A file's content is handed on in chunks, each with its offset in the (uncompressed) content. */
export type Deliver = (chunk: Buffer, offset: number) => void;

/** The copies present, newest first. Where both `.n` and `.n.gz` exist, gzip is still writing: the plain one is taken. */
export async function listCopies(path: string, max: number): Promise<RotatedCopy[]> {
  const out: RotatedCopy[] = [];
  for (let n = 1; n <= max; n++) {
    const plain = await statOrNull(`${path}.${n}`);
    const gz = plain === null ? await statOrNull(`${path}.${n}.gz`) : null;
    const found = plain ?? gz;
    if (found === null || !found.isFile()) continue;
    out.push({
      n,
      path: plain !== null ? `${path}.${n}` : `${path}.${n}.gz`,
      gz: plain === null,
      identity: identityOf(found),
      size: found.size,
      mtimeMs: found.mtimeMs,
    });
  }
  return out;
}

/** A string that changes whenever the set of copies changes (renamed, written, compressed). */
export function copiesSignature(copies: readonly RotatedCopy[]): string {
  return copies.map((c) => `${c.n}:${c.gz ? 'z' : 'p'}:${c.identity.ino}:${c.size}:${c.mtimeMs}`).join(',');
}

/** The first FINGERPRINT_BYTES of a copy's content (fewer when it is shorter). */
export async function headOf(handle: FileHandle, gz: boolean): Promise<Buffer> {
  if (!gz) return preadExactly(handle, 0, FINGERPRINT_BYTES);
  const parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of gunzipped(handle)) {
    parts.push(chunk);
    have += chunk.length;
    if (have >= FINGERPRINT_BYTES) break;
  }
  return Buffer.concat(parts).subarray(0, FINGERPRINT_BYTES);
}

/**
 * If the copy's content is the one we were reading (it starts with `head` and
 * holds `tail` just before `offset`), hands on everything after `offset` and
 * returns how many bytes that was; otherwise returns null and hands on nothing.
 */
export async function readRest(
  handle: FileHandle,
  gz: boolean,
  expect: ContentMark,
  deliver: Deliver,
): Promise<number | null> {
  const { head, tail, offset } = expect;
  if (!gz) return (await holds(handle, (await handle.stat()).size, expect)) ? readPlain(handle, offset, deliver) : null;
  // A gzip stream can only be read from its start: check the head and the tail on the
  // way to `offset`, and hand on nothing before both are confirmed.
  const headParts: Buffer[] = [];
  let headHave = 0;
  const tailStart = offset - tail.length;
  const tailParts: Buffer[] = [];
  let pos = 0;
  let delivered = 0;
  let confirmed = offset === 0 && head.length === 0;
  for await (const chunk of gunzipped(handle)) {
    const start = pos;
    pos += chunk.length;
    if (headHave < head.length) {
      const piece = chunk.subarray(0, head.length - headHave);
      headParts.push(piece);
      headHave += piece.length;
      if (headHave === head.length && !Buffer.concat(headParts).equals(head)) return null;
    }
    if (!confirmed) {
      if (pos > tailStart && start < offset) tailParts.push(chunk.subarray(Math.max(0, tailStart - start), offset - start));
      if (pos < offset) continue;
      if (headHave < head.length || !Buffer.concat(tailParts).equals(tail)) return null;
      confirmed = true;
    }
    const from = Math.max(start, offset);
    if (pos > from) {
      deliver(chunk.subarray(from - start), from);
      delivered += pos - from;
    }
  }
  if (!confirmed) return offset === 0 && headHave === head.length ? 0 : null;
  return delivered;
}

/** Hands on the whole content of a copy; returns its length. */
export async function readAll(handle: FileHandle, gz: boolean, deliver: Deliver): Promise<number> {
  if (!gz) return readPlain(handle, 0, deliver);
  let pos = 0;
  for await (const chunk of gunzipped(handle)) {
    deliver(chunk, pos);
    pos += chunk.length;
  }
  return pos;
}

/** Up to `length` bytes at `offset` of a file's content (gunzipped as a stream up to there for `.gz`). */
export async function contentAt(handle: FileHandle, gz: boolean, offset: number, length: number): Promise<Buffer> {
  if (!gz) return preadExactly(handle, offset, length);
  const parts: Buffer[] = [];
  let pos = 0;
  for await (const chunk of gunzipped(handle)) {
    const start = pos;
    pos += chunk.length;
    if (pos > offset) parts.push(chunk.subarray(Math.max(0, offset - start), offset + length - start));
    if (pos >= offset + length) break;
  }
  return Buffer.concat(parts);
}

/** Opens a copy by path; null when it went away in the meantime (the next rotation moved it). */
export function openCopy(copy: RotatedCopy): Promise<FileHandle | null> {
  return openIfReadable(copy.path);
}

async function readPlain(handle: FileHandle, from: number, deliver: Deliver): Promise<number> {
  const buffer = Buffer.allocUnsafe(256 * 1024);
  let pos = from;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos);
    if (bytesRead === 0) return pos - from;
    // Copied: the receiver may keep a slice (a pending line) past this call.
    deliver(Buffer.from(buffer.subarray(0, bytesRead)), pos);
    pos += bytesRead;
  }
}

async function* gunzipped(handle: FileHandle): AsyncGenerator<Buffer> {
  // Read by offset rather than through handle.createReadStream: the handle belongs to
  // the caller and may be read again (head first, then the whole content).
  const source = Readable.from(compressedChunks(handle));
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    source.unpipe(gunzip);
    source.destroy();
    gunzip.destroy();
  }
}

async function* compressedChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let pos = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}
