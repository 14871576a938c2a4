/**
 * Parses Rack CommonLogger access lines:
 *   HOST - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD PATH?QUERY VERSION" STATUS SIZE DURATION
 * and the older Rack (≤ 1.5) form whose time has no zone: `[20/Nov/2018 12:12:30]`.
 * HOST may be an IPv6 address or an X-Forwarded-For list ("10.0.0.1, 10.0.0.2"),
 * USER and SIZE may be "-", VERSION may be empty, and older Racks end the line with
 * a space. Pure: a bad line is a value, never an exception; the only memory an
 * `AccessParser` keeps is the last minute and stamp it read, to save work on the next line.
 */
import type { AccessRecord } from '../model.js';
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
// the numbers are read in place, where the captures' lengths put them.
const ACCESS =
  /^(.+?) - (\S+) \[\d{2}\/[A-Z][a-z]{2}\/\d{4}(?::\d{2}:\d{2}:\d{2} [+-]\d{4}| \d{2}:\d{2}:\d{2})\] "(\S+) (\S*?)(?: (\S*))?" \d{3} (?:\d+|-) \d+(?:\.\d+)? ?$/;

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

const NOT_ACCESS: AccessParse = { ok: false, reason: 'not an access line' };

/** Parses access lines; remembers the last minute's start and the last stamp, as lines come in time order. */
export class AccessParser {
  private lastMinute = '';
  private lastZone = '';
  private lastMinuteTime = 0;
  private lastZoneMinutes: number | null = 0;
  /** The last stamp read and its time: a busy log writes thousands of lines in one second. */
  private lastStamp = '';
  private lastStampTime = 0;

  parse(text: string): AccessParse {
    // Cheap guard before the regular expression: every access line has " - " and a quote.
    if (text.indexOf(' - ') === -1 || text.indexOf('"') === -1) return NOT_ACCESS;
    const m = ACCESS.exec(text);
    if (m === null) return NOT_ACCESS;
    const host = m[1]!;
    const user = m[2]!;
    const method = m[3]!;
    const target = m[4]!;
    const version = m[5];
    const stampAt = host.length + 3 + user.length + 2;
    // `dd/Mon/yyyy HH:MM:SS]` (Rack ≤ 1.5) or `dd/Mon/yyyy:HH:MM:SS +zzzz]`
    const stampEnd = stampAt + (text.charCodeAt(stampAt + 20) === 93 /* ] */ ? 20 : 26);
    const time = this.stampTime(text, stampAt, stampEnd);
    if (typeof time === 'string') return { ok: false, reason: time };
    const targetAt = stampEnd + 3 + method.length + 1;
    const statusAt = targetAt + target.length + (version === undefined ? 0 : 1 + version.length) + 2;
    const sizeAt = statusAt + 4;
    const sizeEnd = text.indexOf(' ', sizeAt);
    const end = text.charCodeAt(text.length - 1) === 32 ? text.length - 1 : text.length;
    const q = target.indexOf('?');
    return {
      ok: true,
      value: {
        time,
        zoneMinutes: this.lastZoneMinutes,
        host,
        user: user === '-' ? null : user,
        method,
        path: q === -1 ? target : target.slice(0, q),
        query: q === -1 ? null : target.slice(q + 1),
        version: version ?? '',
        status: digits(text, statusAt, 3),
        size: text.charCodeAt(sizeAt) === 45 /* - */ ? null : decimal(text, sizeAt, sizeEnd),
        durationSeconds: decimal(text, sizeEnd + 1, end),
      },
    };
  }

  /**
   * The stamp at `text[at, end)`, `20/Nov/2018:12:12:31 +0000` or `20/Nov/2018 12:12:31`
   * (its shape already checked by the expression), as epoch milliseconds, or why it is not a time.
   */
  private stampTime(text: string, at: number, end: number): number | string {
    const length = end - at;
    if (length === this.lastStamp.length && sameAt(text, at, this.lastStamp)) return this.lastStampTime;
    const zoned = length > 20;
    if (
      this.lastMinute === '' ||
      !sameAt(text, at, this.lastMinute) ||
      (zoned ? this.lastZone === '' || !sameAt(text, at + 20, this.lastZone) : this.lastZone !== '')
    ) {
      const month = MONTHS[text.slice(at + 3, at + 6)];
      if (month === undefined) return `unknown month ${text.slice(at + 3, at + 6)}`;
      let zoneMinutes: number | null = null;
      if (zoned) {
        const sign = text.charCodeAt(at + 21) === 45 /* - */ ? -1 : 1;
        zoneMinutes = sign * (digits(text, at + 22, 2) * 60 + digits(text, at + 24, 2));
      }
      const minuteTime =
        Date.UTC(digits(text, at + 7, 4), month, digits(text, at, 2), digits(text, at + 12, 2), digits(text, at + 15, 2)) -
        (zoneMinutes ?? 0) * 60_000;
      if (Number.isNaN(minuteTime)) return 'invalid timestamp';
      this.lastMinute = text.slice(at, at + 17); // dd/Mon/yyyy:HH:MM
      this.lastZone = zoned ? text.slice(at + 20, end) : ''; // " +zzzz"
      this.lastMinuteTime = minuteTime;
      this.lastZoneMinutes = zoneMinutes;
    }
    this.lastStamp = text.slice(at, end);
    this.lastStampTime = this.lastMinuteTime + digits(text, at + 18, 2) * 1000;
    return this.lastStampTime;
  }
}

/**
 * True when `text` holds `s` at `at`. A loop, from the end (where consecutive stamps
 * differ): `startsWith` with a position took 50 ns for a whole stamp, this a third.
 */
function sameAt(text: string, at: number, s: string): boolean {
  for (let i = s.length - 1; i >= 0; i--) if (text.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** One line on its own (tests, tools); the assembler keeps a parser for the whole input. */
export function parseAccessLine(text: string): AccessParse {
  return new AccessParser().parse(text);
}
