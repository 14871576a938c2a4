/**
 * The agent's own log lines, in the format their reader wants: JSON (one object a
 * line, for bpm, syslog forwarders and `jq`) or pretty (a time, a level and the
 * message, for a person at a terminal). Pretty is the default on a terminal.
 *
 * Pretty lines come from pino-pretty (pino's own, well kept; about 1.7 MB with the
 * 13 small packages it adds) rather than a formatter of our own: its
 * `prettyFactory` is a plain function from one JSON line to one readable line,
 * called in this thread as each line is written. Its transport form would run in
 * a worker thread, which a person at a terminal does not need; the factory gives
 * the same output without one. It is loaded only when pretty output is asked
 * for, so the agent as the BOSH job runs it (stdout a pipe, JSON) never loads it.
 */
import pino, { type Logger } from 'pino';
import { RestoreWatcherError } from '../errors.js';
import { AGENT_LOGGER_OPTIONS } from '../log-output.js';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `--log-format`, or pretty on a terminal and JSON otherwise. */
export function logFormat(flag: string | undefined, isTTY: boolean): LogFormat {
  if (flag === undefined) return isTTY ? 'pretty' : 'json';
  if ((LOG_FORMATS as readonly string[]).includes(flag)) return flag as LogFormat;
  throw new RestoreWatcherError('RW_USAGE', `--log-format: expected ${LOG_FORMATS.join(' or ')}, got "${flag}"`);
}

export interface LoggerOptions {
  format: LogFormat;
  /** Colour in pretty lines (a terminal, and NO_COLOR unset). */
  colour: boolean;
  out?: NodeJS.WritableStream;
}

/**
 * The agent's logger for pretty lines, at level info, writing to `out` (stdout); null
 * for JSON, which the service writes itself through its bounded output
 * (log-output.ts): asynchronously, so that the agent never waits for the reader of
 * its stdout (a pipe, as bpm reads it), and past a bound drops and counts lines.
 */
export async function agentLogger(o: LoggerOptions): Promise<Logger | null> {
  if (o.format === 'json') return null;
  const out = o.out ?? process.stdout;
  const { prettyFactory } = (await import('pino-pretty')).default;
  const pretty = prettyFactory({
    colorize: o.colour,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
  return pino(AGENT_LOGGER_OPTIONS, { write: (line: string) => void out.write(pretty(line)) });
}
