/**
 * Parses Rack CommonLogger access lines:
 *   HOST - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD PATH?QUERY VERSION" STATUS SIZE DURATION
 * and the older Rack (≤ 1.5) form whose time has no zone: `[20/Nov/2018 12:12:30]`.
 * HOST may be an IPv6 address or an X-Forwarded-For list ("10.0.0.1, 10.0.0.2"),
 * USER and SIZE may be "-", VERSION may be empty, and older Racks end the line with
 * a space. Pure: a bad line is a value, never an exception; the only memory an
 * `AccessParser` keeps is the last stamp it read and its minute, to save work on the
 * next line.
 *
 * Matched by the expression, not by hand: a hand-written matcher reading the line a
 * character at a time measured slower (240 ns a line against 175).
 */
import type { AccessRecord, Line } from '../model.js';
import { decimal, digits } from './digits.js';

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

/** Parses access lines; remembers the last stamp it read and its minute, as lines come in time order. */
export class AccessParser {
  /** The last stamp read, a character a byte (the expression checked it is ASCII), and its length: 0 before the first. */
  private readonly stampCodes = new Uint8Array(26);
  private stampLength = 0;
  private stampTime = 0;
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
  record(line: Line): AccessRecord | null {
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
   * The time of the stamp at `text[at, at + length)` (its shape checked by the expression), as
   * epoch milliseconds, or why it is not a time. A busy log writes thousands of lines in one
   * second, and all of a minute's lines share the minute's start.
   */
  private timeOf(text: string, at: number, length: number): number | string {
    if (length === this.stampLength && this.sameStamp(text, at, 0, length)) return this.stampTime;
    const zoned = length === 26;
    // The minute's 17 characters tell the two forms apart (`:` or ` ` after the year).
    if (length !== this.stampLength || !this.sameStamp(text, at, 0, 17) || (zoned && !this.sameStamp(text, at, 20, 26))) {
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
    this.stampLength = length;
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
