/**
 * Recognises what the backup-agent's web server and framework write besides
 * access and logger lines: start-up banners (Puma, WEBrick, Thin, Sinatra), which
 * say the process (re)started, and Sinatra's `dump_errors!` exception reports.
 * Pure functions over one line of text.
 */
import { digits } from './digits.js';
import type { LocalToEpoch } from './timezone.js';

export interface BannerFields {
  server: string;
  pid: number | null;
  /** `[yyyy-mm-dd HH:MM:SS]` (WEBrick) in the process's zone, as the converter reads it; null when the line has no time. */
  time: number | null;
}

const PUMA = /^(?:\[(\d+)\] )?Puma starting in (?:single|cluster) mode/;
const PUMA_PID = /^\*\s+PID: (\d+)$/;
const PUMA_OTHER = /^(?:\* (?:Puma version|Version \d|Listening on |Min threads|Environment: )|Use Ctrl-C to stop$)/;
const WEBRICK = /^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\] INFO  (?:WEBrick::HTTPServer#start: pid=(\d+) port=\d+$|WEBrick \d|ruby \d)/;
const THIN = /^>> (?:Thin web server|Listening on |Maximum connections)/;
const SINATRA = /^== Sinatra .*has taken the stage/;

/** The banner a line is, or null; cheap for lines that start with a digit or a letter other than the few banners start with. */
export function parseBanner(text: string, toEpoch: LocalToEpoch): BannerFields | null {
  const c = text.charCodeAt(0);
  // P(uma) [ * U(se) > =
  if (c !== 80 && c !== 91 && c !== 42 && c !== 85 && c !== 62 && c !== 61) return null;
  let m = PUMA.exec(text);
  if (m !== null) return { server: 'puma', pid: m[1] === undefined ? null : Number(m[1]), time: null };
  m = PUMA_PID.exec(text);
  if (m !== null) return { server: 'puma', pid: Number(m[1]), time: null };
  if (PUMA_OTHER.test(text)) return { server: 'puma', pid: null, time: null };
  m = WEBRICK.exec(text);
  if (m !== null) return { server: 'webrick', pid: m[2] === undefined ? null : Number(m[2]), time: stampTime(m[1]!, toEpoch) };
  if (THIN.test(text)) return { server: 'thin', pid: null, time: null };
  if (SINATRA.test(text)) return { server: 'sinatra', pid: null, time: null };
  return null;
}

export interface ExceptionFields {
  time: number;
  errorClass: string;
  message: string;
}

const DUMPED = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) - ([A-Z][\w:]*) - (.*)$/;

/** Sinatra's `2018-11-20 12:13:00 - RuntimeError - boom:` first line, or null. */
export function parseDumpedException(text: string, toEpoch: LocalToEpoch): ExceptionFields | null {
  const c = text.charCodeAt(0);
  if (c < 48 || c > 57 || text.charCodeAt(4) !== 45 /* - */) return null;
  const m = DUMPED.exec(text);
  if (m === null) return null;
  const time = stampTime(m[1]!, toEpoch);
  if (Number.isNaN(time)) return null;
  return { time, errorClass: m[2]!, message: `${m[2]}: ${m[3]!.replace(/:$/, '')}` };
}

/** True for a line of a dumped exception's backtrace (Sinatra indents them with a tab). */
export function isTraceLine(text: string): boolean {
  return text.charCodeAt(0) === 9;
}

function stampTime(stamp: string, toEpoch: LocalToEpoch): number {
  return toEpoch(digits(stamp, 0, 4), digits(stamp, 5, 2) - 1, digits(stamp, 8, 2), digits(stamp, 11, 2), digits(stamp, 14, 2), digits(stamp, 17, 2), 0);
}

const WEBRICK_ACCESS = /^\S+ - \S+ \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [A-Z]{1,5}\] "\S+ (\S*?)(?:\?\S*)?(?: \S*)?" \d{3} (?:\d+|-)$/;
const WEBRICK_REFERER = /^\S+ -> (\/\S*)$/;

/** The path of WEBrick's own access line or referer line, or null for another line. */
export function parseEcho(text: string): string | null {
  if (text.indexOf(' -> ') !== -1) return WEBRICK_REFERER.exec(text)?.[1] ?? null;
  if (text.indexOf('] "') === -1) return null;
  return WEBRICK_ACCESS.exec(text)?.[1] ?? null;
}
