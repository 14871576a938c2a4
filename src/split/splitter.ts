/**
 * Splitting bytes into lines, and nothing else. Pure: a chunk and the state left
 * by the previous chunk go in, complete lines and the new state come out. The
 * state holds at most `maxLineBytes` bytes, so memory is bounded whatever the
 * input: an over-long line keeps its head (cut at a character boundary, flagged)
 * and the rest is skipped up to the next newline.
 */
import type { Line, SourceFile } from '../model.js';

// Not imported: node:buffer's ESM facade reads every export, and its File getter loads a module nothing here uses.
const { isAscii, isUtf8 } = process.getBuiltinModule('node:buffer');

/**
 * Buffer's own decoders, which `toString` reaches through two layers of JavaScript (a
 * bounds check, an encoding lookup): called directly, as a dense replay makes a string
 * of each of its million lines. Not in Node's typings, but on Buffer.prototype in every
 * Node this runs on (20 to 24).
 */
interface Decoders {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const LF = 0x0a;
const CR = 0x0d;

export interface SplitState {
  /** Byte offset in the file of the next byte to be pushed. */
  readonly offset: number;
  /** Bytes of the line begun but not finished (at most maxLineBytes). */
  readonly pending: Buffer;
  /** Offset of the pending line's first byte. */
  readonly pendingStart: number;
  /** True while skipping the tail of an over-long line. */
  readonly skipping: boolean;
}

export interface SplitResult {
  state: SplitState;
  lines: Line[];
  /**
   * True when the chunk was ASCII: each line begun in it is then its bytes, one character a
   * byte, at `line.offset - chunk's offset`.
   */
  ascii: boolean;
}

const EMPTY = Buffer.alloc(0);

/** The state for reading `file` from byte `offset` (0 for a new file, or a checkpoint's offset). */
export function initialSplitState(offset = 0): SplitState {
  return { offset, pending: EMPTY, pendingStart: offset, skipping: false };
}

/** The offset from which a reader must resume to lose nothing: the start of the unfinished line. */
export function resumeOffset(state: SplitState): number {
  return state.pending.length > 0 || state.skipping ? state.pendingStart : state.offset;
}

/** Cuts `chunk` (the bytes following `state.offset`) into the lines it completes. */
export function splitChunk(state: SplitState, chunk: Buffer, file: SourceFile | string, maxLineBytes: number): SplitResult {
  const from = sourceFile(file);
  const lines: Line[] = [];
  const chunkStart = state.offset;
  let pending = state.pending;
  let pendingStart = state.pendingStart;
  let skipping = state.skipping;
  // Checking the whole chunk once is much cheaper than checking each line; only a
  // chunk with invalid bytes (or a character split at its end) is checked line by line.
  // ASCII (nearly every log) is valid UTF-8 too, and decodes as Latin-1 to the same
  // string in less time (a line 60 ns as UTF-8, 45 as Latin-1).
  const ascii = isAscii(chunk);
  const chunkValid = ascii || isUtf8(chunk);
  let pos = 0;

  while (pos < chunk.length) {
    const nl = chunk.indexOf(LF, pos);
    if (nl === -1) {
      // No newline: the rest stays pending, up to the cap.
      if (!skipping) {
        const room = maxLineBytes - pending.length;
        const take = Math.min(room, chunk.length - pos);
        if (pending.length === 0) pendingStart = chunkStart + pos;
        pending = take > 0 ? concat(pending, chunk.subarray(pos, pos + take)) : pending;
        if (take < chunk.length - pos) skipping = true;
      }
      pos = chunk.length;
      break;
    }
    const lineEnd = chunkStart + nl + 1;
    if (pending.length === 0 && !skipping) {
      // The common case: the whole line lies in this chunk.
      const start = chunkStart + pos;
      let stop = nl;
      if (stop > pos && chunk[stop - 1] === CR) stop--;
      if (stop - pos > maxLineBytes) {
        lines.push(makeLine(chunk.subarray(pos, pos + maxLineBytes), true, from, start, lineEnd, false));
      } else if (chunkValid) {
        lines.push({
          text: ascii ? (chunk as Buffer & Decoders).latin1Slice(pos, stop) : (chunk as Buffer & Decoders).utf8Slice(pos, stop),
          file: from.path,
          identity: from.identity,
          offset: start,
          end: lineEnd,
          cut: false,
          invalidUtf8: false,
        });
      } else {
        lines.push(makeLine(chunk.subarray(pos, stop), false, from, start, lineEnd, true));
      }
    } else {
      // The line began in an earlier chunk.
      let cut = skipping;
      if (!skipping) {
        const room = maxLineBytes - pending.length;
        const piece = chunk.subarray(pos, nl);
        if (piece.length > room) {
          pending = concat(pending, piece.subarray(0, room));
          cut = true;
        } else {
          pending = concat(pending, piece);
        }
      }
      let bytes = pending;
      if (!cut && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
      lines.push(makeLine(bytes, cut, from, pendingStart, lineEnd, true));
      pending = EMPTY;
      skipping = false;
    }
    pos = nl + 1;
    pendingStart = chunkStart + pos;
  }

  return {
    state: { offset: chunkStart + chunk.length, pending, pendingStart, skipping },
    lines,
    ascii,
  };
}

/** Ends the input: a last line without a newline is returned as a line of its own (for files that are complete). */
export function flushSplit(state: SplitState, file: SourceFile | string): SplitResult {
  if (state.pending.length === 0 && !state.skipping) return { state, lines: [], ascii: false };
  let bytes = state.pending;
  if (!state.skipping && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
  const line = makeLine(bytes, state.skipping, sourceFile(file), state.pendingStart, state.offset, true);
  return { state: initialSplitState(state.offset), lines: [line], ascii: false };
}

function makeLine(bytes: Buffer, cut: boolean, from: SourceFile, offset: number, end: number, check: boolean): Line {
  let body = bytes;
  if (cut) body = trimPartialCharacter(body);
  const invalidUtf8 = check ? !isUtf8(body) : false;
  return { text: body.toString('utf8'), file: from.path, identity: from.identity, offset, end, cut, invalidUtf8 };
}

/** Drops a UTF-8 sequence left incomplete by a cut, so the kept head decodes cleanly. */
function trimPartialCharacter(bytes: Buffer): Buffer {
  const n = bytes.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  let i = n - 1;
  while (i >= 0 && i >= n - 4 && (bytes[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return bytes;
  const lead = bytes[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - i < need ? bytes.subarray(0, i) : bytes;
}

function concat(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return Buffer.from(b); // copy: the chunk's memory is reused by readers
  return Buffer.concat([a, b]);
}

/** A bare path names bytes not read from a file we know the identity of (replay input, tests). */
export function sourceFile(file: SourceFile | string): SourceFile {
  return typeof file === 'string' ? { path: file, identity: null } : file;
}
