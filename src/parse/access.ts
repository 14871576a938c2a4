/**
 * Parses Rack CommonLogger access lines:
 *   HOST - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD PATH?QUERY VERSION" STATUS SIZE DURATION
 * HOST may be an IPv6 address or an X-Forwarded-For list ("10.0.0.1, 10.0.0.2"),
 * USER and SIZE may be "-", VERSION may be empty, and older Racks end the line with
 * a space. Pure: a bad line is a value, never an exception.
 */

export interface AccessFields {
  time: number;
  host: string;
  user: string | null;
  method: string;
  path: string;
  query: string | null;
  version: string;
  status: number;
  size: number | null;
  durationSeconds: number;
}

export type AccessParse = { ok: true; value: AccessFields } | { ok: false; reason: string };

const ACCESS =
  /^(.+?) - (\S+) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "(\S+) (\S*?)(?: (\S*))?" (\d{3}) (\d+|-) (\d+(?:\.\d+)?) ?$/;

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

const NOT_ACCESS: AccessParse = { ok: false, reason: 'not an access line' };

export function parseAccessLine(text: string): AccessParse {
  // Cheap guard before the regular expression: every access line has " - " and a quote.
  if (text.indexOf(' - ') === -1 || text.indexOf('"') === -1) return NOT_ACCESS;
  const m = ACCESS.exec(text);
  if (m === null) return NOT_ACCESS;
  const month = MONTHS[m[4]!];
  if (month === undefined) return { ok: false, reason: `unknown month ${m[4]}` };
  const sign = m[9] === '-' ? -1 : 1;
  const zoneMinutes = sign * (Number(m[10]) * 60 + Number(m[11]));
  const time =
    Date.UTC(Number(m[5]), month, Number(m[3]), Number(m[6]), Number(m[7]), Number(m[8])) - zoneMinutes * 60_000;
  if (Number.isNaN(time)) return { ok: false, reason: 'invalid timestamp' };
  const target = m[13]!;
  const q = target.indexOf('?');
  return {
    ok: true,
    value: {
      time,
      host: m[1]!,
      user: m[2] === '-' ? null : m[2]!,
      method: m[12]!,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? null : target.slice(q + 1),
      version: m[14] ?? '',
      status: Number(m[15]),
      size: m[16] === '-' ? null : Number(m[16]),
      durationSeconds: Number(m[17]),
    },
  };
}
