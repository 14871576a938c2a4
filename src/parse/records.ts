/**
 * Turns lines into records: access lines, logger lines, server banners,
 * Sinatra's exception reports and WEBrick's own request lines are parsed, and lines that match none and follow a
 * logger entry or an exception report are its continuation (backtraces,
 * multi-line messages). A logger record is complete when the next record starts
 * or when the caller says the input has paused (`flush`): Ruby's Logger writes a
 * whole entry in one write, so at the end of what has been written so far an
 * entry is whole.
 *
 * Logger times carry no zone. With `timezone: "auto"` they take the offset of the
 * access lines around them: the offset of the last access line (or of a Rails
 * `Started … at … +zzzz` line) before them, UTC before any; and when the access
 * line that completes an entry has another offset (a DST change in between), the
 * entry takes whichever of the two offsets puts it between the two access lines,
 * which tells the repeated hour at fall-back apart.
 */
import type { BannerRecord, ExceptionRecord, Line, LoggerRecord, LogRecord, UnknownRecord } from '../model.js';
import { AccessParser } from './access.js';
import { LoggerParser, looksLikeLoggerLine } from './logger.js';
import { isTraceLine, parseBanner, parseDumpedException, parseEcho } from './server.js';
import { fixedOffsetConverter, localTimeConverter, type LocalToEpoch } from './timezone.js';

export interface AssemblerOptions {
  /** Zone the logger's timestamps are written in: an IANA name, or `auto` (from the access lines). */
  timezone: string;
  /** A logger record keeps at most this many characters of message; the rest is counted, not kept. */
  maxMessageChars?: number;
  /** In auto mode: what was learned of the zone before the first line (a resumed reading, see `zone`). */
  zone?: ZoneState | null;
}

/** What the auto zone has learned from the lines read: a checkpoint keeps it, so a resumed reading reads times the same. */
export interface ZoneState {
  /** Minutes east of UTC logger times are read at. */
  offset: number;
  /** Time of the last access line, which bounds the DST choice of the entry after it. */
  lastAccessTime: number | null;
}

/** No records: shared, as most lines complete none or one (never written to). */
const NONE = Object.freeze([]) as unknown as LogRecord[];

const RAILS_STARTED_ZONE = / at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ([+-])(\d{2})(\d{2})$/;

/** Groups parsed lines into records; holds at most one unfinished logger record. */
export class RecordAssembler {
  private readonly auto: boolean;
  private toEpoch: LocalToEpoch;
  /** In auto mode: the offset (minutes east of UTC) logger times are read at now. */
  private offset = 0;
  private readonly converters = new Map<number, LocalToEpoch>();
  private lastAccessTime: number | null = null;
  private readonly maxMessageChars: number;
  private readonly accessParser = new AccessParser();
  private readonly loggerParser = new LoggerParser();
  private pending: LoggerRecord | ExceptionRecord | null = null;
  /** The offset the pending record's time was read at (auto mode). */
  private pendingZone = 0;
  private pendingParts: string[] = [];
  private pendingChars = 0;

  constructor(options: AssemblerOptions) {
    this.auto = options.timezone === 'auto';
    const zone = this.auto ? options.zone : null;
    if (zone != null) {
      this.offset = zone.offset;
      this.lastAccessTime = zone.lastAccessTime;
    }
    this.toEpoch = this.auto ? this.converterAt(this.offset) : localTimeConverter(options.timezone);
    this.maxMessageChars = options.maxMessageChars ?? 64 * 1024;
  }

  /** Offset of the first line of the unfinished record, or null when nothing is pending. */
  get pendingOffset(): number | null {
    return this.pending === null ? null : this.pending.line.offset;
  }

  /**
   * The auto zone's state at `pendingOffset` (or after the last line when nothing is
   * pending): an assembler given it there reads the lines from there the same. Null
   * with a fixed zone. An entry pending took the offset it was read at, and no
   * access line came after its start (one would have completed it).
   */
  get zone(): ZoneState | null {
    if (!this.auto) return null;
    return { offset: this.pending === null ? this.offset : this.pendingZone, lastAccessTime: this.lastAccessTime };
  }

  /**
   * Takes one line; returns the records it completes (usually zero or one). `bytes`, when
   * given, is an ASCII chunk holding the bytes of the file from offset `bytesOffset`: a line
   * wholly inside it is read from its bytes where that is faster. Neither is kept.
   */
  push(line: Line, bytes: Buffer | null = null, bytesOffset = 0): LogRecord[] {
    const text = line.text;
    // A cut logger line still has its prefix, so it stays a logger record with its head kept.
    if (looksLikeLoggerLine(text)) {
      const parsed = this.loggerParser.parse(text, this.toEpoch);
      if (parsed.ok) {
        const done = this.flush();
        const v = parsed.value;
        if (this.auto && v.message.startsWith('Started ')) this.railsZone(v.message, v);
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
        this.startPending(v.message);
        return done;
      }
    } else if (!line.cut) {
      if (this.pending !== null && isTraceLine(text)) return this.continuePending(line);
      const access = this.accessParser.record(line, bytes, line.offset - bytesOffset);
      if (access !== null) {
        const zoneMinutes = this.accessParser.zoneMinutes;
        if (zoneMinutes === null) {
          // Rack ≤ 1.5 wrote no zone: the line is in the process's zone, as the logger's lines.
          access.time = this.wallToEpoch(access.time);
        } else if (this.auto) {
          this.retimePending(zoneMinutes, access.time);
          this.setOffset(zoneMinutes);
        }
        this.lastAccessTime = access.time;
        return this.after(access);
      }
      const dumped = parseDumpedException(text, this.toEpoch);
      if (dumped !== null) {
        const done = this.flush();
        this.pending = { kind: 'exception', time: dumped.time, errorClass: dumped.errorClass, message: dumped.message, lineCount: 1, line, end: line.end };
        this.startPending(dumped.message);
        return done;
      }
      const banner = parseBanner(text, this.toEpoch);
      if (banner !== null) {
        const record: BannerRecord = { kind: 'banner', time: banner.time, server: banner.server, pid: banner.pid, line, end: line.end };
        return this.after(record);
      }
      const echoed = parseEcho(text);
      if (echoed !== null) {
        return this.after({ kind: 'echo', time: null, server: 'webrick', path: echoed, line, end: line.end });
      }
    }
    if (this.pending !== null) return this.continuePending(line);
    return [unknown(line)];
  }

  /** Completes the pending logger record, if any (end of input, or the input has paused). */
  flush(): LogRecord[] {
    return this.pending === null ? NONE : [this.complete(this.pending)];
  }

  /** The pending record, if any, completed by `record`, and `record`: one array, made at its size. */
  private after(record: LogRecord): LogRecord[] {
    return this.pending === null ? [record] : [this.complete(this.pending), record];
  }

  /** `record`, the pending one, with its message joined; nothing is pending after. */
  private complete(record: LoggerRecord | ExceptionRecord): LogRecord {
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
    return record;
  }

  private startPending(message: string): void {
    this.pendingZone = this.offset;
    this.pendingParts = [message];
    this.pendingChars = message.length;
  }

  private continuePending(line: Line): LogRecord[] {
    const pending = this.pending!;
    pending.lineCount++;
    pending.end = line.end;
    if (this.pendingChars < this.maxMessageChars) {
      const room = this.maxMessageChars - this.pendingChars;
      const text = pending.kind === 'exception' && isTraceLine(line.text) ? line.text.slice(1) : line.text;
      const piece = text.length > room ? text.slice(0, room) : text;
      this.pendingParts.push(piece);
      this.pendingChars += piece.length + 1;
    }
    return NONE;
  }

  /**
   * The access line completing the pending entry is at another offset: the entry
   * takes the offset that places it between the access lines before and after it.
   */
  private retimePending(next: number, nextTime: number): void {
    const p = this.pending;
    if (p === null || next === this.pendingZone) return;
    const wall = p.time + this.pendingZone * 60_000;
    const atNext = wall - next * 60_000;
    const fits = (t: number): boolean => (this.lastAccessTime === null || t >= this.lastAccessTime - 1000) && t <= nextTime + 1000;
    if (!fits(p.time) && fits(atNext)) p.time = atNext;
  }

  /** A Rails `Started … at 2018-11-20 12:12:30 +0100` line names its own offset. */
  private railsZone(message: string, v: { time: number }): void {
    const m = RAILS_STARTED_ZONE.exec(message);
    if (m === null) return;
    const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
    if (minutes === this.offset) return;
    v.time += (this.offset - minutes) * 60_000;
    this.setOffset(minutes);
  }

  private setOffset(minutes: number): void {
    if (minutes === this.offset) return;
    this.offset = minutes;
    this.toEpoch = this.converterAt(minutes);
  }

  private converterAt(minutes: number): LocalToEpoch {
    let c = this.converters.get(minutes);
    if (c === undefined) {
      c = fixedOffsetConverter(minutes);
      this.converters.set(minutes, c);
    }
    return c;
  }

  /** A zone-less access time (wall clock read as UTC) in the logger's zone. */
  private wallToEpoch(wall: number): number {
    const d = new Date(wall);
    return this.toEpoch(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0);
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
