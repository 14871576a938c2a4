/**
 * Parses Ruby Logger lines:
 *   S, [yyyy-mm-ddTHH:MM:SS.ffffff #PID] SEVERITY -- PROGNAME: MESSAGE
 * S is the severity's first letter, SEVERITY is right-aligned to 5 characters and
 * PROGNAME may be empty. Also read: logger ≤ 1.4's `[time#pid]` (no space before
 * the pid) and a custom `datetime_format` of the `%Y-%m-%d %H:%M:%S` kind (a space
 * for the `T`, with or without fractions). Rails' `[tag]` prefixes are taken off
 * the message. Pure: a line that does not match is a value, never an exception;
 * a `LoggerParser` only remembers the last second it converted.
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
  /^([DIWEFA]), \[(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))? ?#(\d+)\] +(DEBUG|INFO|WARN|ERROR|FATAL|ANY) -- (.*?): ?(.*)$/s;

const NOT_LOGGER: LoggerParse = { ok: false, reason: 'not a logger line' };

/** True when the line starts the way every logger line does ("I, [" and so on); cheap. */
export function looksLikeLoggerLine(text: string): boolean {
  if (text.length < 28 || text.charCodeAt(1) !== 44 /* , */ || text.charCodeAt(3) !== 91 /* [ */) return false;
  const c = text.charCodeAt(0);
  // D I W E F A
  return c === 68 || c === 73 || c === 87 || c === 69 || c === 70 || c === 65;
}

/** Parses logger lines; remembers the last second it converted, as lines come in time order. */
export class LoggerParser {
  private lastStamp = '';
  private lastConverter: LocalToEpoch | null = null;
  private lastTime = 0;

  parse(text: string, toEpoch: LocalToEpoch): LoggerParse {
    if (!looksLikeLoggerLine(text)) return NOT_LOGGER;
    const m = LOGGER.exec(text);
    if (m === null) return NOT_LOGGER;
    const severity = m[5] as Severity;
    if (severity[0] !== m[1]) return { ok: false, reason: 'severity letter does not match severity' };
    const second = this.secondTime(m[2]!, toEpoch);
    if (Number.isNaN(second)) return { ok: false, reason: 'invalid timestamp' };
    const frac = m[3] ?? '0';
    const ms = Number(frac.padEnd(3, '0').slice(0, 3));
    const { tags, message } = splitTags(m[7]!);
    return {
      ok: true,
      value: { time: second + ms, pid: Number(m[4]), severity, progname: m[6]!, tags, message },
    };
  }

  /** `yyyy-mm-ddTHH:MM:SS` (its shape already checked by the expression) in the logger's zone, as epoch milliseconds. */
  secondTime(stamp: string, toEpoch: LocalToEpoch): number {
    if (stamp !== this.lastStamp || toEpoch !== this.lastConverter) {
      this.lastTime = toEpoch(
        digits(stamp, 0, 4),
        digits(stamp, 5, 2) - 1,
        digits(stamp, 8, 2),
        digits(stamp, 11, 2),
        digits(stamp, 14, 2),
        digits(stamp, 17, 2),
        0,
      );
      this.lastStamp = stamp;
      this.lastConverter = toEpoch;
    }
    return this.lastTime;
  }
}

/** One line on its own (tests, tools); the assembler keeps a parser for the whole input. */
export function parseLoggerLine(text: string, toEpoch: LocalToEpoch): LoggerParse {
  return new LoggerParser().parse(text, toEpoch);
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
