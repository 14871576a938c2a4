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
import { digits } from './digits.js';

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

// The timestamp is a single capture, read digit by digit below: each capture is a
// string made for every line, and most lines of a production.log are access lines.
const ACCESS =
  /^(.+?) - (\S+) \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}(?::\d{2}:\d{2}:\d{2} [+-]\d{4}| \d{2}:\d{2}:\d{2}))\] "(\S+) (\S*?)(?: (\S*))?" (\d{3}) (\d+|-) (\d+(?:\.\d+)?) ?$/;

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
    const time = this.stampTime(m[3]!);
    if (typeof time === 'string') return { ok: false, reason: time };
    const target = m[5]!;
    const q = target.indexOf('?');
    return {
      ok: true,
      value: {
        time,
        zoneMinutes: this.lastZoneMinutes,
        host: m[1]!,
        user: m[2] === '-' ? null : m[2]!,
        method: m[4]!,
        path: q === -1 ? target : target.slice(0, q),
        query: q === -1 ? null : target.slice(q + 1),
        version: m[6] ?? '',
        status: Number(m[7]),
        size: m[8] === '-' ? null : Number(m[8]),
        durationSeconds: Number(m[9]),
      },
    };
  }

  /**
   * `20/Nov/2018:12:12:31 +0000` or `20/Nov/2018 12:12:31` (its shape already
   * checked by the expression) as epoch milliseconds, or why it is not a time.
   */
  private stampTime(stamp: string): number | string {
    if (stamp === this.lastStamp) return this.lastStampTime;
    const zoned = stamp.length > 20;
    if (this.lastMinute === '' || !stamp.startsWith(this.lastMinute) || (zoned ? this.lastZone === '' || !stamp.endsWith(this.lastZone) : this.lastZone !== '')) {
      const month = MONTHS[stamp.slice(3, 6)];
      if (month === undefined) return `unknown month ${stamp.slice(3, 6)}`;
      let zoneMinutes: number | null = null;
      if (zoned) {
        const sign = stamp.charCodeAt(21) === 45 /* - */ ? -1 : 1;
        zoneMinutes = sign * (digits(stamp, 22, 2) * 60 + digits(stamp, 24, 2));
      }
      const minuteTime =
        Date.UTC(digits(stamp, 7, 4), month, digits(stamp, 0, 2), digits(stamp, 12, 2), digits(stamp, 15, 2)) -
        (zoneMinutes ?? 0) * 60_000;
      if (Number.isNaN(minuteTime)) return 'invalid timestamp';
      this.lastMinute = stamp.slice(0, 17); // dd/Mon/yyyy:HH:MM
      this.lastZone = zoned ? stamp.slice(20) : ''; // " +zzzz"
      this.lastMinuteTime = minuteTime;
      this.lastZoneMinutes = zoneMinutes;
    }
    this.lastStamp = stamp;
    this.lastStampTime = this.lastMinuteTime + digits(stamp, 18, 2) * 1000;
    return this.lastStampTime;
  }
}

/** One line on its own (tests, tools); the assembler keeps a parser for the whole input. */
export function parseAccessLine(text: string): AccessParse {
  return new AccessParser().parse(text);
}
