/**
 * Parses Rack CommonLogger access lines:
 *   HOST - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD PATH?QUERY VERSION" STATUS SIZE DURATION
 * and the older Rack (≤ 1.5) form whose time has no zone: `[20/Nov/2018 12:12:30]`.
 * HOST may be an IPv6 address or an X-Forwarded-For list ("10.0.0.1, 10.0.0.2"),
 * USER and SIZE may be "-", VERSION may be empty, and older Racks end the line with
 * a space. Pure: a bad line is a value, never an exception; the only memory an
 * `AccessParser` keeps is the last stamp it read and its minute, and the requests of
 * the last two lines it read from their bytes, to save work on the next line (what it
 * reads of a line never depends on them).
 *
 * Matched by the expression, and, where the caller has the line's bytes (an ASCII chunk),
 * first by hand from those bytes: reading a string a character at a time measured slower
 * than the expression (240 ns a line against 175), reading its bytes faster. The hand
 * reading takes only the shape the expression gives one reading of (see `fromBytes`) and
 * leaves every other line to the expression.
 */
import type { AccessRecord, Line } from '../model.js';
import { byteDigits, decimal, digits, withFraction } from './digits.js';
import { KeptBytes, WordView } from './kept-bytes.js';

/** What an access line says: the record's fields, and two the tracker has no use for. */
export type AccessFields = Pick<
  AccessRecord,
  'time' | 'host' | 'user' | 'method' | 'path' | 'query' | 'status' | 'size' | 'durationSeconds'
> & {
  version: string;
  /**
   * The line's zone as minutes east of UTC, or null for a line without one (Rack ≤ 1.5):
   * then `time` is its wall-clock time read as if it were UTC, for the caller to place.
   */
  zoneMinutes: number | null;
};

export type AccessParse = { ok: true; value: AccessFields } | { ok: false; reason: string };

// Only the strings a record keeps are captures: each capture is a string made for
// every line, and most lines of a production.log are access lines. The stamp and
// the numbers are read in place, where the captures' lengths put them. Counts are
// spelled out (`\d\d`, not `\d{2}`): the same expression, which V8 matches faster
// (79 ns a line against 87 on the dense bench log).
const ACCESS =
  /^(.+?) - (\S+) \[\d\d\/[A-Z][a-z][a-z]\/\d\d\d\d(?::\d\d:\d\d:\d\d [+-]\d\d\d\d| \d\d:\d\d:\d\d)\] "(\S+) (\S*?)(?: (\S*))?" \d\d\d (?:\d+|-) \d+(?:\.\d+)? ?$/;

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

const NOT_ACCESS: AccessParse = { ok: false, reason: 'not an access line' };

/** What `parse` makes its fields from: a record that names no line. */
const NO_LINE: Line = Object.freeze({ text: '', file: '', identity: null, offset: 0, end: 0, cut: false, invalidUtf8: false });

const DASH = 45;
const COLON = 58;
const SPACE = 32;
const CR = 13;
const QUOTE = 34;
const DOT = 46;
const QUESTION = 63;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** What `fromBytes` returns when the line is not of the shape it reads: the expression decides. */
const UNREAD = undefined;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

/** The expression's `\s` among ASCII bytes. */
function isBlank(c: number | undefined): boolean {
  return c === SPACE || (c !== undefined && c >= 9 && c <= 13);
}

/**
 * The stamp's two forms, a character a class: `d` a digit, `A` an upper-case letter, `a` a
 * lower-case one, `s` a sign; anything else itself.
 */
const ZONED_STAMP = 'dd/Aaa/dddd:dd:dd:dd sdddd';
const BARE_STAMP = 'dd/Aaa/dddd dd:dd:dd';

/** True when the bytes at `at` have the shape of `form` (one of the two above). */
function stampShape(b: Buffer, at: number, form: string): boolean {
  for (let i = 0; i < form.length; i++) {
    const c = b[at + i];
    if (c === undefined) return false;
    const f = form.charCodeAt(i);
    const ok =
      f === 100 ? isDigit(c)
      : f === 65 ? c >= 65 && c <= 90
      : f === 97 ? c >= 97 && c <= 122
      : f === 115 ? c === 43 || c === DASH
      : c === f;
    if (!ok) return false;
  }
  return true;
}

/** Requests longer than this (a long query string) are read anew each time. */
const MAX_KEPT_REQUEST = 128;

/** The bytes of a request (`POST /v1/order HTTP/1.1`) and what was read of them. */
class KeptRequest {
  readonly run = new KeptBytes(MAX_KEPT_REQUEST);
  method = '';
  path = '';
  query: string | null = null;
}

/** Parses access lines; remembers the last stamp it read and its minute, as lines come in time order, and the last requests. */
export class AccessParser {
  /** The last stamp read, a character a byte (the expression checked it is ASCII), for stamps read from text. */
  private readonly stampCodes = new Uint8Array(26);
  /** The same stamp as words, for stamps read from bytes; its length is the stamp's (-1 before the first). */
  private readonly stamp = new KeptBytes(26);
  private stampTime = 0;
  private readonly words = new WordView();
  /** The requests of the last two lines read from their bytes, the latest first: order polls and status checks take turns. */
  private recent = new KeptRequest();
  private older = new KeptRequest();
  /** The time of the last stamp's minute, and its zone. */
  private minuteTime = 0;
  private minuteZone: number | null = 0;

  /**
   * The zone of the last access line read, as minutes east of UTC, or null for a
   * line without one (Rack ≤ 1.5): then its time is its wall-clock time read as if
   * it were UTC, for the caller to place.
   */
  get zoneMinutes(): number | null {
    return this.minuteZone;
  }

  parse(text: string): AccessParse {
    const m = ACCESS.exec(text);
    if (m === null) return NOT_ACCESS;
    const record = this.fromMatch(text, m, NO_LINE);
    if (typeof record === 'string') return { ok: false, reason: record };
    const { kind: _kind, line: _line, end: _end, ...fields } = record;
    return { ok: true, value: { ...fields, version: m[5] ?? '', zoneMinutes: this.minuteZone } };
  }

  /**
   * The record `line` is when it is an access line, else null (`parse` says why). Made
   * in one object: the line's fields and then a record made of them were two a line.
   * No `indexOf` guard before the expression: two cost 14 ns on every access line, and
   * other lines that get here (neither logger lines nor backtraces) are rare; on them
   * the expression fails in 15 to 60 ns, 0.4 ns a character on a long line without ` - `.
   */
  record(line: Line, bytes: Buffer | null = null, at = -1): AccessRecord | null {
    if (bytes !== null && at >= 0) {
      const read = this.fromBytes(line, bytes, at);
      if (read !== UNREAD) return read;
    }
    const m = ACCESS.exec(line.text);
    if (m === null) return null;
    const record = this.fromMatch(line.text, m, line);
    return typeof record === 'string' ? null : record;
  }

  private fromMatch(text: string, m: RegExpExecArray, line: Line): AccessRecord | string {
    const host = m[1]!;
    const user = m[2]!;
    const method = m[3]!;
    const target = m[4]!;
    const version = m[5];
    const stampAt = host.length + 3 + user.length + 2;
    // `dd/Mon/yyyy:HH:MM:SS +zzzz]` or (Rack ≤ 1.5) `dd/Mon/yyyy HH:MM:SS]`
    const stampLength = text.charCodeAt(stampAt + 11) === COLON ? 26 : 20;
    const time = this.timeOf(text, stampAt, stampLength);
    if (typeof time === 'string') return time;
    const targetAt = stampAt + stampLength + 3 + method.length + 1;
    const statusAt = targetAt + target.length + (version === undefined ? 0 : 1 + version.length) + 2;
    const sizeAt = statusAt + 4;
    const sizeEnd = text.indexOf(' ', sizeAt);
    const end = text.charCodeAt(text.length - 1) === 32 ? text.length - 1 : text.length;
    const q = target.indexOf('?');
    return {
      kind: 'access',
      time,
      host,
      user: user === '-' ? null : user,
      method,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? null : target.slice(q + 1),
      status: digits(text, statusAt, 3),
      size: text.charCodeAt(sizeAt) === DASH ? null : decimal(text, sizeAt, sizeEnd),
      durationSeconds: decimal(text, sizeEnd + 1, end),
      line,
      end: line.end,
    };
  }

  /**
   * The record `line` is, read from its bytes `b[s, s + line.text.length)` (ASCII, a
   * character a byte), or UNREAD for a line of another shape than the one read here.
   * Exactly the expression's reading: the closing quote is the line's last `"` (the
   * expression's tail has none); the host ends at the first ` - ` (`.+?` takes the
   * shortest host the rest fits, and the rest is tried only there: anything else is
   * UNREAD); user and method end at the first blank, which must be a space; between
   * method and quote, the target ends at the first blank, which must be a space
   * followed by a version without blanks. A stamp with the last stamp's bytes has the
   * shape the last one was checked to have.
   */
  private fromBytes(line: Line, b: Buffer, s: number): AccessRecord | null | undefined {
    const text = line.text;
    let p = s + text.length;
    // The tail, from the end: ` ?`, duration, size, status, quote.
    if (b[p - 1] === SPACE) p--;
    const end = p - s;
    let d = p;
    while (d > s && isDigit(b[d - 1])) d--;
    if (d === p) return UNREAD;
    let dot = -1;
    if (b[d - 1] === DOT) {
      dot = --d;
      while (d > s && isDigit(b[d - 1])) d--;
      if (d === dot) return UNREAD;
    }
    const sizeEnd = d - 1;
    if (sizeEnd <= s || b[sizeEnd] !== SPACE) return UNREAD;
    let z = sizeEnd;
    if (b[z - 1] === DASH) z--;
    else while (z > s && isDigit(b[z - 1])) z--;
    const close = z - 6;
    // The shortest head: `h - u [` a stamp `] "M `.
    if (z === sizeEnd || close < s + 32) return UNREAD;
    if (b[z - 1] !== SPACE || !isDigit(b[z - 2]) || !isDigit(b[z - 3]) || !isDigit(b[z - 4]) || b[z - 5] !== SPACE || b[close] !== QUOTE) {
      return UNREAD;
    }
    // The head, from the start: none of its reads passes the quote.
    if (b[s] === CR) return UNREAD;
    let h = s + 1;
    for (; ; h++) {
      if (h + 3 > close) return UNREAD;
      const c = b[h];
      if (c === SPACE && b[h + 1] === DASH && b[h + 2] === SPACE) break;
      if (c === CR) return UNREAD;
    }
    const userAt = h + 3;
    let u = userAt;
    while (u < close && !isBlank(b[u])) u++;
    if (u === userAt || b[u] !== SPACE || b[u + 1] !== OPEN_BRACKET) return UNREAD;
    const at = u + 2;
    const length = b[at + 11] === COLON ? 26 : 20;
    const methodAt = at + length + 3;
    if (methodAt >= close || b[methodAt - 3] !== CLOSE_BRACKET || b[methodAt - 2] !== SPACE || b[methodAt - 1] !== QUOTE) return UNREAD;
    const words = this.words;
    words.on(b);
    const same = this.stamp.length === length && this.stamp.matches(words, at);
    if (!same && !stampShape(b, at, length === 26 ? ZONED_STAMP : BARE_STAMP)) return UNREAD;
    // The request between the quotes: one of the last two lines', or read here.
    const span = close - methodAt;
    let request = this.recent;
    if (request.run.length !== span || !request.run.matches(words, methodAt)) {
      request = this.older;
      if ((request.run.length !== span || !request.run.matches(words, methodAt)) && !this.readRequest(b, text, s, methodAt, close, request)) {
        return UNREAD;
      }
      this.older = this.recent;
      this.recent = request;
    }
    let time = this.stampTime;
    if (!same) {
      const read = this.timeOf(text, at - s, length);
      if (typeof read === 'string') return null;
      time = read;
    }
    const statusAt = z - 4;
    return {
      kind: 'access',
      time,
      host: text.slice(0, h - s),
      user: u === userAt + 1 && b[userAt] === DASH ? null : text.slice(userAt - s, u - s),
      method: request.method,
      path: request.path,
      query: request.query,
      status: byteDigits(b, statusAt, statusAt + 3),
      size: b[z] === DASH ? null : sizeEnd - z <= 15 ? byteDigits(b, z, sizeEnd) : decimal(text, z - s, sizeEnd - s),
      durationSeconds:
        p - d > 15 ? decimal(text, d - s, end) : dot === -1 ? byteDigits(b, d, p) : withFraction(byteDigits(b, d, dot), byteDigits(b, dot + 1, p), p - dot - 1),
      line,
      end: line.end,
    };
  }

  /**
   * Reads the request `b[methodAt, close)` into `into`, keeping its bytes; false when it is
   * not of the shape read here. The reading depends on those bytes alone, so a later
   * request with the same bytes is read the same.
   */
  private readRequest(b: Buffer, text: string, s: number, methodAt: number, close: number, into: KeptRequest): boolean {
    let m = methodAt;
    while (m < close && !isBlank(b[m])) m++;
    if (m === methodAt || b[m] !== SPACE) return false;
    const targetAt = m + 1;
    let t = targetAt;
    let q = -1;
    for (; t < close; t++) {
      const c = b[t]!;
      if (isBlank(c)) break;
      if (c === QUESTION && q === -1) q = t;
    }
    if (t < close) {
      if (b[t] !== SPACE) return false;
      for (let v = t + 1; v < close; v++) if (isBlank(b[v])) return false;
    }
    into.run.keep(this.words, methodAt, close - methodAt);
    into.method = text.slice(methodAt - s, m - s);
    into.path = text.slice(targetAt - s, (q === -1 ? t : q) - s);
    into.query = q === -1 ? null : text.slice(q + 1 - s, t - s);
    return true;
  }

  /**
   * The time of the stamp at `text[at, at + length)` (its shape checked by the expression), as
   * epoch milliseconds, or why it is not a time. A busy log writes thousands of lines in one
   * second, and all of a minute's lines share the minute's start.
   */
  private timeOf(text: string, at: number, length: number): number | string {
    if (length === this.stamp.length && this.sameStamp(text, at, 0, length)) return this.stampTime;
    const zoned = length === 26;
    // The minute's 17 characters tell the two forms apart (`:` or ` ` after the year).
    if (length !== this.stamp.length || !this.sameStamp(text, at, 0, 17) || (zoned && !this.sameStamp(text, at, 20, 26))) {
      const monthName = text.slice(at + 3, at + 6);
      const month = MONTHS[monthName];
      if (month === undefined) return `unknown month ${monthName}`;
      let zoneMinutes: number | null = null;
      if (zoned) {
        const sign = text.charCodeAt(at + 21) === DASH ? -1 : 1;
        zoneMinutes = sign * (digits(text, at + 22, 2) * 60 + digits(text, at + 24, 2));
      }
      const minuteTime =
        Date.UTC(digits(text, at + 7, 4), month, digits(text, at, 2), digits(text, at + 12, 2), digits(text, at + 15, 2)) -
        (zoneMinutes ?? 0) * 60_000;
      if (Number.isNaN(minuteTime)) return 'invalid timestamp';
      this.minuteTime = minuteTime;
      this.minuteZone = zoneMinutes;
    }
    const codes = this.stampCodes;
    for (let i = 0; i < length; i++) codes[i] = text.charCodeAt(at + i);
    this.stamp.keepCodes(codes, length);
    this.stampTime = this.minuteTime + digits(text, at + 18, 2) * 1000;
    return this.stampTime;
  }

  /**
   * True when the stamp at `at` has the last stamp's characters from `from` to `to`. From the
   * end, where consecutive stamps differ; against bytes kept, as a string's characters cost
   * more to read (against a kept 26-character slice of a line a stamp took 80 ns, this 30).
   */
  private sameStamp(text: string, at: number, from: number, to: number): boolean {
    const codes = this.stampCodes;
    for (let i = to - 1; i >= from; i--) if (text.charCodeAt(at + i) !== codes[i]) return false;
    return true;
  }
}

/** One line on its own (tests, tools); the assembler keeps a parser for the whole input. */
export function parseAccessLine(text: string): AccessParse {
  return new AccessParser().parse(text);
}
