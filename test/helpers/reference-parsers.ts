/**
 * The line parsers as first written: one regular expression each, every field a
 * capture, no caching. The real parsers are tuned for speed; tests hold them to
 * these, which are easy to read and check against the formats.
 */
import type { AccessParse } from '../../src/parse/access.js';
import type { LoggerParse } from '../../src/parse/logger.js';
import type { LocalToEpoch } from '../../src/parse/timezone.js';
import type { Severity } from '../../src/model.js';

// Rack ≥ 1.6 writes `20/Nov/2018:12:12:30 +0000`, older Racks `20/Nov/2018 12:12:30` (no zone).
const ACCESS =
  /^(.+?) - (\S+) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4})(?::(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})| (\d{2}):(\d{2}):(\d{2}))\] "(\S+) (\S*?)(?: (\S*))?" (\d{3}) (\d+|-) (\d+(?:\.\d+)?) ?$/;

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

export function referenceParseAccessLine(text: string): AccessParse {
  if (text.indexOf(' - ') === -1 || text.indexOf('"') === -1) return { ok: false, reason: 'not an access line' };
  const m = ACCESS.exec(text);
  if (m === null) return { ok: false, reason: 'not an access line' };
  const month = MONTHS[m[4]!];
  if (month === undefined) return { ok: false, reason: `unknown month ${m[4]}` };
  const zoned = m[9] !== undefined;
  const [h, mi, sec] = zoned ? [m[6], m[7], m[8]] : [m[12], m[13], m[14]];
  const sign = m[9] === '-' ? -1 : 1;
  const zoneMinutes = zoned ? sign * (Number(m[10]) * 60 + Number(m[11])) : null;
  const time =
    Date.UTC(Number(m[5]), month, Number(m[3]), Number(h), Number(mi), Number(sec)) - (zoneMinutes ?? 0) * 60_000;
  if (Number.isNaN(time)) return { ok: false, reason: 'invalid timestamp' };
  const target = m[16]!;
  const q = target.indexOf('?');
  return {
    ok: true,
    value: {
      time,
      zoneMinutes,
      host: m[1]!,
      user: m[2] === '-' ? null : m[2]!,
      method: m[15]!,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? null : target.slice(q + 1),
      version: m[17] ?? '',
      status: Number(m[18]),
      size: m[19] === '-' ? null : Number(m[19]),
      durationSeconds: Number(m[20]),
    },
  };
}

const LOGGER =
  /^([DIWEFA]), \[(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ?#(\d+)\] +(DEBUG|INFO|WARN|ERROR|FATAL|ANY) -- (.*?): ?(.*)$/s;

export function referenceParseLoggerLine(text: string, toEpoch: LocalToEpoch): LoggerParse {
  const m = LOGGER.exec(text);
  if (m === null) return { ok: false, reason: 'not a logger line' };
  const severity = m[10] as Severity;
  if (severity[0] !== m[1]) return { ok: false, reason: 'severity letter does not match severity' };
  const frac = m[8] ?? '0';
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const time = toEpoch(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]), ms);
  if (Number.isNaN(time)) return { ok: false, reason: 'invalid timestamp' };
  let message = m[12]!;
  const tags: string[] = [];
  while (message.charCodeAt(0) === 91) {
    const close = message.indexOf('] ');
    if (close === -1) break;
    tags.push(message.slice(1, close));
    message = message.slice(close + 2);
  }
  return { ok: true, value: { time, pid: Number(m[9]), severity, progname: m[11]!, tags, message } };
}
