/**
 * Parses Ruby Logger lines:
 *   S, [yyyy-mm-ddTHH:MM:SS.ffffff #PID] SEVERITY -- PROGNAME: MESSAGE
 * S is the severity's first letter, SEVERITY is right-aligned to 5 characters and
 * PROGNAME may be empty. Rails' `[tag]` prefixes are taken off the message. Pure:
 * a line that does not match is a value, never an exception.
 */
import type { LoggerRecord, Severity } from '../model.js';
import { digits } from './digits.js';
import type { LocalToEpoch } from './timezone.js';

/** What a logger line says; the record adds where it came from and its continuation lines. */
export type LoggerFields = Pick<LoggerRecord, 'time' | 'pid' | 'severity' | 'progname' | 'tags' | 'message'>;

export type LoggerParse = { ok: true; value: LoggerFields } | { ok: false; reason: string };

// The date and time are a single capture, read digit by digit below: each capture
// is a string made for every line.
const LOGGER =
  /^([DIWEFA]), \[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))? #(\d+)\] +(DEBUG|INFO|WARN|ERROR|FATAL|ANY) -- (.*?): ?(.*)$/s;

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
  const severity = m[5] as Severity;
  if (severity[0] !== m[1]) return { ok: false, reason: 'severity letter does not match severity' };
  const second = secondTime(m[2]!, toEpoch);
  if (Number.isNaN(second)) return { ok: false, reason: 'invalid timestamp' };
  const frac = m[3] ?? '0';
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const { tags, message } = splitTags(m[7]!);
  return {
    ok: true,
    value: { time: second + ms, pid: Number(m[4]), severity, progname: m[6]!, tags, message },
  };
}

// Lines come in time order, often several in one second: the last second's time is kept.
let lastStamp = '';
let lastConverter: LocalToEpoch | null = null;
let lastTime = 0;

/** `yyyy-mm-ddTHH:MM:SS` (its shape already checked by the expression) in the logger's zone, as epoch milliseconds. */
function secondTime(stamp: string, toEpoch: LocalToEpoch): number {
  if (stamp !== lastStamp || toEpoch !== lastConverter) {
    lastTime = toEpoch(
      digits(stamp, 0, 4),
      digits(stamp, 5, 2) - 1,
      digits(stamp, 8, 2),
      digits(stamp, 11, 2),
      digits(stamp, 14, 2),
      digits(stamp, 17, 2),
      0,
    );
    lastStamp = stamp;
    lastConverter = toEpoch;
  }
  return lastTime;
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
