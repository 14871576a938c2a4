/**
 * Owns the JSON text of an event as `replay --json` prints it: exactly
 * `JSON.stringify(event)`, written as UTF-8 bytes straight into the output
 * buffer.
 *
 * Hand-written because a dense log makes an event of nearly every line, and
 * building each event's text as a string and encoding it cost most of a dense
 * replay: JSON.stringify was a third of its CPU, and a string concatenated
 * from kept pieces still had to be flattened (a copy) and encoded (another)
 * before it reached the buffer, hundreds of megabytes of each. Most of an
 * event's text is the same as the last one's (the operation's id, times, host,
 * state); only its id, offsets, line and counters change from one order poll
 * to the next. So the text is cut at those values into segments, each
 * segment's bytes are kept while the fields it is made of stay the same (or
 * return to the values before), and an event costs a few copies of kept
 * bytes, its numbers and an escape of its line. Schema serializers (fastify's
 * fast-json-stringify) return strings, write their schema's order and load a
 * validator at start-up, which replay avoids. test/unit/event-json.test.ts holds the text to
 * JSON.stringify's over every event of the fixtures, the corpus and awkward
 * logs; the key lists below fail to compile when the model gains a field.
 */
import type { LineSource, Operation, WatchEvent } from './model.js';

/** Every key of an event and of an operation, in the order JSON.stringify meets them. */
const EVENT_KEYS = ['id', 'type', 'time', 'restoreId', 'backupId', 'state', 'file', 'offset', 'source', 'line', 'message', 'operation'] as const;
const OPERATION_KEYS = [
  'kind',
  'id',
  'state',
  'requestedAt',
  'requestSeen',
  'requestedBy',
  'requestedByUser',
  'requestStatus',
  'finishedAt',
  'lastActivityAt',
  'durationMs',
  'orderPolls',
  'failedPolls',
  'messages',
  'lastMessage',
  'failure',
  'phase',
  'namedBackupId',
  'warnings',
] as const;
// A field added to the model and not written here would be dropped silently: these fail to compile instead.
const EVERY_EVENT_KEY: Exclude<keyof WatchEvent, (typeof EVENT_KEYS)[number]> extends never ? true : never = true;
const EVERY_OPERATION_KEY: Exclude<keyof Operation, (typeof OPERATION_KEYS)[number]> extends never ? true : never = true;
void EVERY_EVENT_KEY;
void EVERY_OPERATION_KEY;

/** A buffer being filled: the bytes from `used` on are free. */
export interface ByteSink {
  bytes: Buffer;
  used: number;
  /** Makes room for `size` more bytes after `used` (in `bytes`, which may then be another buffer). */
  reserve(size: number): void;
}

/** Room for any number's text (`-1.2345678901234567e-308`). */
const NUMBER_ROOM = 25;
/** Escaped, a UTF-16 unit takes at most six bytes (`\u001f`), and a string two quotes. */
const stringRoom = (s: string): number => 6 * s.length + 2;

const EMPTY = Buffer.alloc(0);
const LINE_KEY = Buffer.from(',"line":');
const SOURCE_END_LINE_KEY = Buffer.from('},"line":');
const MESSAGE_KEY = Buffer.from(',"message":');

/**
 * The bytes of a segment of text and the six field values they were made
 * from, for the last two sets of values: events often alternate between two
 * (an order poll's and a log message's, a millisecond apart), and each switch
 * back would otherwise rebuild the bytes the segment had a moment ago.
 */
class Segment {
  bytes: Buffer = EMPTY;
  /** The values `bytes` were made from; compared with `===` (strings, numbers, booleans, null, undefined). */
  private of: unknown[] = new Array<unknown>(6).fill(Segment);
  private spareBytes: Buffer = EMPTY;
  private spareOf: unknown[] = new Array<unknown>(6).fill(Segment);

  /**
   * True when `bytes` are made of these values, taking the spare bytes if
   * they are; else the values are recorded, and the caller gives their bytes
   * with `set` or `keep`, which replace the older of the two. Values are
   * stored only then: the arrays live long, and a store of each event's
   * young strings into them would cost a write barrier and a remembered slot
   * for the next scavenge. Fixed arity: a rest parameter would make an array
   * per call.
   */
  holds(a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown): boolean {
    if (same(this.of, a, b, c, d, e, f)) return true;
    const of = this.spareOf;
    this.spareOf = this.of;
    this.of = of;
    const bytes = this.spareBytes;
    this.spareBytes = this.bytes;
    this.bytes = bytes;
    if (same(of, a, b, c, d, e, f)) return true;
    of[0] = a;
    of[1] = b;
    of[2] = c;
    of[3] = d;
    of[4] = e;
    of[5] = f;
    return false;
  }

  /** `text` made of the values `holds` did not find. */
  set(text: string): void {
    this.bytes = Buffer.from(text);
  }

  /** `bytes` (kept, not copied) made of the values `holds` did not find. */
  keep(bytes: Buffer): void {
    this.bytes = bytes;
  }
}

function same(of: unknown[], a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown): boolean {
  return of[0] === a && of[1] === b && of[2] === c && of[3] === d && of[4] === e && of[5] === f;
}

/** Writes events as JSON Lines, one writer per run of events (it keeps the last ones' segments). */
export class EventJson {
  // `{"id":N` then, each followed by a number: …`"offset":`, the source …`"offset":`, after the line
  // and the message …`"orderPolls":` (the operation in two segments of six fields at most), …`"messages":`.
  private readonly head = new Segment();
  private readonly source = new Segment();
  /** `,"message":…`: an order poll's is the same string as the last poll's (format.ts `answered()` keeps it), so its bytes are kept. */
  private readonly message = new Segment();
  private readonly operation = new Segment();
  private readonly activity = new Segment();
  private readonly polls = new Segment();
  private readonly tail = new Segment();
  /** Writes `JSON.stringify(e)` and a newline into `sink`. */
  write(e: WatchEvent, sink: ByteSink): void {
    const op = e.operation;
    this.refreshHead(e);
    const src = e.source;
    if (src !== undefined) this.refreshSource(src);
    this.refreshOperation(op);
    this.refreshActivity(op);
    this.refreshPolls(op.failedPolls);
    this.refreshTail(op);
    const room =
      8 +
      this.head.bytes.length +
      (src !== undefined ? this.source.bytes.length + SOURCE_END_LINE_KEY.length + NUMBER_ROOM : LINE_KEY.length) +
      stringRoom(e.line) +
      MESSAGE_KEY.length +
      stringRoom(e.message) +
      this.operation.bytes.length +
      this.activity.bytes.length +
      this.polls.bytes.length +
      this.tail.bytes.length +
      4 * NUMBER_ROOM;
    sink.reserve(room);
    const buf = sink.bytes;
    let p = sink.used;
    // {"id":
    buf[p++] = 0x7b;
    buf[p++] = 0x22;
    buf[p++] = 0x69;
    buf[p++] = 0x64;
    buf[p++] = 0x22;
    buf[p++] = 0x3a;
    p = writeNumber(buf, p, e.id);
    p = copy(buf, p, this.head.bytes);
    p = writeNumber(buf, p, e.offset);
    if (src !== undefined) {
      p = copy(buf, p, this.source.bytes);
      p = writeNumber(buf, p, src.offset);
      p = copy(buf, p, SOURCE_END_LINE_KEY);
    } else {
      p = copy(buf, p, LINE_KEY);
    }
    p = writeString(buf, p, e.line);
    p = this.writeMessage(buf, p, e.message);
    p = copy(buf, p, this.operation.bytes);
    p = copy(buf, p, this.activity.bytes);
    p = writeNumber(buf, p, op.orderPolls);
    p = copy(buf, p, this.polls.bytes);
    p = writeNumber(buf, p, op.messages);
    p = copy(buf, p, this.tail.bytes);
    sink.used = p;
  }

  /** `,"type":…,"offset":` */
  private refreshHead(e: WatchEvent): void {
    const seg = this.head;
    if (!seg.holds(e.type, e.time, e.restoreId, e.backupId, e.state, e.file)) {
      let s = `,"type":${JSON.stringify(e.type)},"time":${JSON.stringify(e.time)}`;
      if (e.restoreId !== undefined) s += `,"restoreId":${JSON.stringify(e.restoreId)}`;
      if (e.backupId !== undefined) s += `,"backupId":${JSON.stringify(e.backupId)}`;
      seg.set(`${s},"state":${JSON.stringify(e.state)},"file":${JSON.stringify(e.file)},"offset":`);
    }
  }

  /** `,"source":{…,"offset":` */
  private refreshSource(src: LineSource): void {
    const seg = this.source;
    const identity = src.identity;
    // The identity object is kept by reference, and its values too in case it is reused with others.
    if (!seg.holds(src.path, identity, identity?.dev, identity?.ino, undefined, undefined)) {
      seg.set(`,"source":{"path":${JSON.stringify(src.path)},"identity":${JSON.stringify(identity)},"offset":`);
    }
  }

  /**
   * `,"message":…`: the kept bytes of one of the last two messages, or the
   * message escaped here and its bytes kept from the output (comparing costs
   * less than escaping, and keeping these bytes less than building a segment).
   */
  private writeMessage(buf: Buffer, start: number, message: string): number {
    const seg = this.message;
    if (seg.holds(message, undefined, undefined, undefined, undefined, undefined)) return copy(buf, start, seg.bytes);
    const end = writeString(buf, copy(buf, start, MESSAGE_KEY), message);
    seg.keep(Buffer.from(buf.subarray(start, end)));
    return end;
  }

  /** `,"operation":{"kind":…,"requestedBy":…` */
  private refreshOperation(op: Operation): void {
    const seg = this.operation;
    if (!seg.holds(op.kind, op.id, op.state, op.requestedAt, op.requestSeen, op.requestedBy)) {
      let s = `,"operation":{"kind":${JSON.stringify(op.kind)},"id":${JSON.stringify(op.id)}`;
      s += `,"state":${JSON.stringify(op.state)},"requestedAt":${JSON.stringify(op.requestedAt)}`;
      if (op.requestSeen !== undefined) s += `,"requestSeen":${op.requestSeen}`;
      seg.set(`${s},"requestedBy":${JSON.stringify(op.requestedBy)}`);
    }
  }

  /** `,"requestedByUser":…,"orderPolls":` */
  private refreshActivity(op: Operation): void {
    const seg = this.activity;
    if (!seg.holds(op.requestedByUser, op.requestStatus, op.finishedAt, op.lastActivityAt, op.durationMs, undefined)) {
      let s = op.requestedByUser !== undefined ? `,"requestedByUser":${JSON.stringify(op.requestedByUser)}` : '';
      s += `,"requestStatus":${JSON.stringify(op.requestStatus)},"finishedAt":${JSON.stringify(op.finishedAt)}`;
      seg.set(`${s},"lastActivityAt":${JSON.stringify(op.lastActivityAt)},"durationMs":${JSON.stringify(op.durationMs)},"orderPolls":`);
    }
  }

  /** `,"failedPolls":{…},"messages":` */
  private refreshPolls(failedPolls: Record<string, number> | undefined): void {
    const seg = this.polls;
    // Kept only while there are none: a filled object is written anew (it is rare, and an object's
    // contents cannot be compared with `===`), so it stands as NaN, equal to nothing.
    const kept = failedPolls === undefined ? undefined : isEmpty(failedPolls) ? EMPTY : Number.NaN;
    if (!seg.holds(kept, undefined, undefined, undefined, undefined, undefined)) {
      seg.set(`${failedPolls !== undefined ? `,"failedPolls":${JSON.stringify(failedPolls)}` : ''},"messages":`);
    }
  }

  /** `,"lastMessage":…}}` and the newline. */
  private refreshTail(op: Operation): void {
    const seg = this.tail;
    // Warnings as for failed polls: kept only while there are none.
    const warnings = op.warnings === undefined ? undefined : op.warnings.length === 0 ? EMPTY : Number.NaN;
    if (!seg.holds(op.lastMessage, op.failure, op.phase, op.namedBackupId, warnings, undefined)) {
      let s = `,"lastMessage":${JSON.stringify(op.lastMessage)},"failure":${JSON.stringify(op.failure)}`;
      if (op.phase !== undefined) s += `,"phase":${JSON.stringify(op.phase)}`;
      if (op.namedBackupId !== undefined) s += `,"namedBackupId":${JSON.stringify(op.namedBackupId)}`;
      if (op.warnings !== undefined) s += `,"warnings":${JSON.stringify(op.warnings)}`;
      seg.set(`${s}}}\n`);
    }
  }
}

function copy(buf: Buffer, p: number, bytes: Buffer): number {
  buf.set(bytes, p);
  return p + bytes.length;
}

/** Two ASCII digits for each of 0–99: whole numbers are written two digits a step. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** How many digits a whole number below 2^32 has. */
function digitCount(n: number): number {
  if (n < 100000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/** A number as JSON writes it (NaN and the infinities as null); whole numbers below 2^32 from a digit table. */
function writeNumber(buf: Buffer, p: number, n: number): number {
  if (!(n >= 0 && n <= 0xffffffff && n === Math.floor(n))) return p + buf.write(Number.isFinite(n) ? `${n}` : 'null', p, 'latin1');
  const end = p + digitCount(n);
  let q = end;
  // Unsigned 32-bit arithmetic: n fits, and its quotients are whole without Math.floor.
  let rest = n >>> 0;
  while (rest >= 100) {
    const next = (rest / 100) >>> 0;
    const pair = (rest - next * 100) << 1;
    buf[--q] = DIGIT_PAIRS[pair + 1]!;
    buf[--q] = DIGIT_PAIRS[pair]!;
    rest = next;
  }
  if (rest >= 10) {
    buf[--q] = DIGIT_PAIRS[(rest << 1) + 1]!;
    buf[--q] = DIGIT_PAIRS[rest << 1]!;
  } else {
    buf[--q] = 48 + rest;
  }
  return end;
}

/** The bytes JSON.stringify escapes each control character (below 0x20) to: `\b \t \n \f \r`, the others `\u00xx`. */
const CONTROL_ESCAPES: Buffer[] = [];
for (let c = 0; c < 0x20; c++) CONTROL_ESCAPES.push(Buffer.from(JSON.stringify(String.fromCharCode(c)).slice(1, -1), 'latin1'));

/**
 * `s` as a JSON string. Printable ASCII is copied unit by unit and the rest
 * escaped as JSON.stringify escapes it; a string with any other character is
 * handed to JSON.stringify whole (UTF-8, lone surrogates).
 */
function writeString(buf: Buffer, start: number, s: string): number {
  let p = start;
  buf[p++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80) {
      if (c === 0x22 || c === 0x5c) {
        buf[p++] = 0x5c;
      }
      buf[p++] = c;
    } else if (c < 0x20) {
      const escape = CONTROL_ESCAPES[c]!;
      buf.set(escape, p);
      p += escape.length;
    } else {
      return start + buf.write(JSON.stringify(s), start);
    }
  }
  buf[p++] = 0x22;
  return p;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
