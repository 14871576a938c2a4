/**
 * Owns how the backup-agent's two line formats are written: Rack's
 * CommonLogger access line and Ruby Logger's default formatter. The demo writes
 * its simulated log with these, and so do the benchmark's generator and the
 * tests; the parsers in parse/ read what these write (a test checks the round
 * trip).
 */
import type { Severity } from './model.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** CommonLogger's time, `20/Nov/2018:12:12:30 +0000`, for epoch `ms` shown at `offsetMinutes` east of UTC. */
export function rackTime(ms: number, offsetMinutes = 0): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const off = Math.abs(offsetMinutes);
  return (
    `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ` +
    `${sign}${pad2(Math.floor(off / 60))}${pad2(off % 60)}`
  );
}

/** Logger's time, `2018-11-20T12:13:00.939338` (microseconds), for epoch `ms` in UTC; `micros` adds below the millisecond. */
export function loggerTime(ms: number, micros = 0): string {
  const d = new Date(ms);
  const frac = String((ms % 1000) * 1000 + micros).padStart(6, '0');
  return `${d.toISOString().slice(0, 19)}.${frac}`;
}

export interface AccessLine {
  host: string;
  /** The Basic-auth user, or null for `-`. */
  user: string | null;
  /** The bracketed time as `rackTime` writes it. */
  stamp: string;
  method: string;
  /** Path with its query string, as requested. */
  target: string;
  status: number;
  /** Response bytes, or null for `-`. */
  size: number | null;
  durationSeconds: number;
}

/** `172.28.19.56 - user [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023` */
export function accessLine(a: AccessLine): string {
  return (
    `${a.host} - ${a.user ?? '-'} [${a.stamp}] "${a.method} ${a.target} HTTP/1.1" ` +
    `${a.status} ${a.size ?? '-'} ${a.durationSeconds.toFixed(4)}`
  );
}

export interface LoggerLine {
  /** The time as `loggerTime` writes it. */
  stamp: string;
  pid: number;
  severity: Exclude<Severity, 'ANY'>;
  progname?: string;
  message: string;
}

/** `I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : success` (continuation lines follow the message's newlines). */
export function loggerLine(l: LoggerLine): string {
  return `${l.severity[0]}, [${l.stamp} #${l.pid}] ${l.severity.padStart(5)} -- ${l.progname ?? ''}: ${l.message}`;
}
