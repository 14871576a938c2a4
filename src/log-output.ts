/**
 * Owns where the agent's own log goes: JSON lines on stdout, which bpm reads
 * through a pipe. When that reader is slow the pipe fills; pino's default
 * asynchronous destination then keeps every later line in memory until it can
 * write it, without bound. Here the destination (pino's SonicBoom) holds at most
 * `maxBufferBytes` unwritten; past that a line is dropped, and counted, and the
 * count is logged once the reader keeps up again.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { WatchEvent } from './model.js';

/** The agent's logger, JSON or pretty: at level info unless told, each line naming the agent. */
export const AGENT_LOGGER_OPTIONS: pino.LoggerOptions = { level: 'info', base: { name: 'restore-watcher' } };

export interface LogOutputOptions {
  /** File descriptor to write to (default 1, stdout). */
  fd?: number;
  /** Unwritten bytes held at most; lines beyond are dropped (default 1 MiB). */
  maxBufferBytes?: number;
  /** How often a count of dropped lines is logged, when there is one (default 10 s). */
  reportEveryMs?: number;
  level?: pino.Level;
}

export interface LogOutputCounters {
  droppedLines: number;
  droppedBytes: number;
}

export interface LogOutput {
  logger: Logger;
  destination: DestinationStream;
  readonly counters: LogOutputCounters;
  /** Stops the report timer and writes what is buffered. */
  close(): void;
}

export function createLogOutput(options: LogOutputOptions = {}): LogOutput {
  const counters: LogOutputCounters = { droppedLines: 0, droppedBytes: 0 };
  // SonicBoom's maxLength drops a write that would take its buffer past the bound and emits 'drop'.
  const destination = pino.destination({ fd: options.fd ?? 1, sync: false, minLength: 0, maxLength: options.maxBufferBytes ?? 1024 * 1024 });
  /** Lines are being dropped and the buffer has not emptied since: a report now would be dropped too. */
  let full = false;
  destination.on('drain', () => (full = false));
  destination.on('drop', (data: string | Buffer) => {
    full = true;
    counters.droppedLines++;
    counters.droppedBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  });
  const logger = pino({ ...AGENT_LOGGER_OPTIONS, level: options.level ?? AGENT_LOGGER_OPTIONS.level }, destination);
  let reported = 0;
  const timer = setInterval(() => {
    if (full || counters.droppedLines === reported) return;
    logger.warn(
      { droppedLines: counters.droppedLines - reported, droppedLinesTotal: counters.droppedLines },
      'log lines dropped: whoever reads our stdout did not keep up',
    );
    reported = counters.droppedLines;
  }, options.reportEveryMs ?? 10_000);
  timer.unref();
  return {
    logger,
    destination,
    counters,
    close() {
      clearInterval(timer);
      try {
        destination.flushSync();
      } catch {
        // A reader that is gone or stuck: what is left is lost, not waited for.
      }
    },
  };
}

/**
 * Decides at which level an event is logged: every state change at info, but of
 * an operation's many progress events only the first and then one a minute, with
 * how many went by since; the rest at debug (a restore can poll thousands of times).
 */
export class ProgressLogThrottle {
  private operation: string | null = null;
  private loggedAt = 0;
  private quiet = 0;
  /** Progress events of the same operation not logged at info before the last one that was. */
  quietBefore = 0;

  constructor(private readonly everyMs = 60_000) {}

  level(e: WatchEvent, now: number): 'info' | 'debug' {
    if (!e.type.endsWith('.progress')) return 'info';
    if (e.operation.id !== this.operation || now - this.loggedAt >= this.everyMs) {
      this.quietBefore = e.operation.id === this.operation ? this.quiet : 0;
      this.operation = e.operation.id;
      this.loggedAt = now;
      this.quiet = 0;
      return 'info';
    }
    this.quiet++;
    return 'debug';
  }
}
