/**
 * Parses Ruby Logger lines:
 *   S, [yyyy-mm-ddTHH:MM:SS.ffffff #PID] SEVERITY -- PROGNAME: MESSAGE
 * S is the severity's first letter, SEVERITY is right-aligned to 5 characters and
 * PROGNAME may be empty. Rails' `[tag]` prefixes are taken off the message. Pure:
 * a line that does not match is a value, never an exception.
 */
import type { Severity } from '../model.js';
import type { LocalToEpoch } from './timezone.js';

export interface LoggerFields {
  time: number;
  pid: number;
  severity: Severity;
  progname: string;
  tags: string[];
  message: string;
}

export type LoggerParse = { ok: true; value: LoggerFields } | { ok: false; reason: string };

const LOGGER =
  /^([DIWEFA]), \[(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? #(\d+)\] +(DEBUG|INFO|WARN|ERROR|FATAL|ANY) -- (.*?): ?(.*)$/s;

const NOT_LOGGER: LoggerParse = { ok: false, reason: 'not a logger line' };

/** True when the line starts the way every logger line does ("I, [" and so on); cheap. */
export function looksLikeLoggerLine(text: string): boolean {
  if (text.length < 30 || text.charCodeAt(1) !== 44 /* , */ || text.charCodeAt(3) !== 91 /* [ */) return false;
  const c = text.charCodeAt(0);
  // D I W E F A
  return c === 68 || c === 73 || c === 87 || c === 69 || c === 70 || c === 65;
}

export function parseLoggerLine(text: string, toEpoch: LocalToEpoch): LoggerParse {
  if (!looksLikeLoggerLine(text)) return NOT_LOGGER;
  const m = LOGGER.exec(text);
  if (m === null) return NOT_LOGGER;
  const severity = m[10] as Severity;
  if (severity[0] !== m[1]) return { ok: false, reason: 'severity letter does not match severity' };
  const frac = m[8] ?? '0';
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const time = toEpoch(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]), ms);
  if (Number.isNaN(time)) return { ok: false, reason: 'invalid timestamp' };
  const { tags, message } = splitTags(m[12]!);
  return {
    ok: true,
    value: { time, pid: Number(m[9]), severity, progname: m[11]!, tags, message },
  };
}

/** Takes Rails' TaggedLogging prefixes ("[req-id] [tenant] Started ...") off a message. */
function splitTags(message: string): { tags: string[]; message: string } {
  if (message.charCodeAt(0) !== 91 /* [ */) return { tags: [], message };
  const tags: string[] = [];
  let rest = message;
  while (rest.charCodeAt(0) === 91) {
    const close = rest.indexOf('] ');
    if (close === -1) break;
    tags.push(rest.slice(1, close));
    rest = rest.slice(close + 2);
  }
  return { tags, message: rest };
}
