/**
 * Turns lines into records: access lines and logger lines are parsed, and lines
 * that match neither and follow a logger line are that entry's continuation
 * (backtraces, multi-line messages). A logger record is complete when the next
 * record starts or when the caller says the input has paused (`flush`): Ruby's
 * Logger writes a whole entry in one write, so at the end of what has been
 * written so far an entry is whole.
 */
import type { Line, LoggerRecord, LogRecord, UnknownRecord } from '../model.js';
import { parseAccessLine } from './access.js';
import { parseLoggerLine, looksLikeLoggerLine } from './logger.js';
import { localTimeConverter, type LocalToEpoch } from './timezone.js';

export interface AssemblerOptions {
  /** Zone the logger's timestamps are written in. */
  timezone: string;
  /** A logger record keeps at most this many characters of message; the rest is counted, not kept. */
  maxMessageChars?: number;
}

/** Groups parsed lines into records; holds at most one unfinished logger record. */
export class RecordAssembler {
  private readonly toEpoch: LocalToEpoch;
  private readonly maxMessageChars: number;
  private pending: LoggerRecord | null = null;
  private pendingParts: string[] = [];
  private pendingChars = 0;

  constructor(options: AssemblerOptions) {
    this.toEpoch = localTimeConverter(options.timezone);
    this.maxMessageChars = options.maxMessageChars ?? 64 * 1024;
  }

  /** Offset of the first line of the unfinished record, or null when nothing is pending. */
  get pendingOffset(): number | null {
    return this.pending === null ? null : this.pending.line.offset;
  }

  /** Takes one line; returns the records it completes (usually zero or one). */
  push(line: Line): LogRecord[] {
    const text = line.text;
    // A cut logger line still has its prefix, so it stays a logger record with its head kept.
    if (looksLikeLoggerLine(text)) {
      const parsed = parseLoggerLine(text, this.toEpoch);
      if (parsed.ok) {
        const done = this.flush();
        const v = parsed.value;
        this.pending = {
          kind: 'logger',
          time: v.time,
          pid: v.pid,
          severity: v.severity,
          progname: v.progname,
          tags: v.tags,
          message: v.message,
          lineCount: 1,
          line,
          end: line.end,
        };
        this.pendingParts = [v.message];
        this.pendingChars = v.message.length;
        return done;
      }
    } else if (!line.cut) {
      const parsed = parseAccessLine(text);
      if (parsed.ok) {
        const done = this.flush();
        const v = parsed.value;
        done.push({
          kind: 'access',
          time: v.time,
          host: v.host,
          method: v.method,
          path: v.path,
          query: v.query,
          status: v.status,
          size: v.size,
          durationSeconds: v.durationSeconds,
          line,
          end: line.end,
        });
        return done;
      }
    }
    if (this.pending !== null) {
      this.pending.lineCount++;
      this.pending.end = line.end;
      if (this.pendingChars < this.maxMessageChars) {
        const room = this.maxMessageChars - this.pendingChars;
        const piece = text.length > room ? text.slice(0, room) : text;
        this.pendingParts.push(piece);
        this.pendingChars += piece.length + 1;
      }
      return [];
    }
    return [unknown(line)];
  }

  /** Completes the pending logger record, if any (end of input, or the input has paused). */
  flush(): LogRecord[] {
    const record = this.pending;
    if (record === null) return [];
    if (this.pendingParts.length > 1) {
      // Blank lines after an entry are spacing, not part of its message.
      while (this.pendingParts.length > 1 && this.pendingParts[this.pendingParts.length - 1]!.trim() === '') {
        this.pendingParts.pop();
      }
      record.message = this.pendingParts.join('\n');
    }
    this.pending = null;
    this.pendingParts = [];
    this.pendingChars = 0;
    return [record];
  }
}

function unknown(line: Line): UnknownRecord {
  const reason = line.cut
    ? 'cut'
    : line.invalidUtf8
      ? 'invalid-utf8'
      : line.text.trim() === ''
        ? 'blank'
        : 'unmatched';
  return { kind: 'unknown', reason, line, end: line.end };
}
