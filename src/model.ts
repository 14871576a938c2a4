/**
 * The values that travel between the pipeline's stages
 * (tail → split → parse → track → journal → serve). Plain data, no behaviour,
 * so every stage can be tested by handing it literals.
 */

/** What a file is, as opposed to what it is called: its device and inode. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The file some bytes were read from: the path as read and the file behind it. */
export interface SourceFile {
  /** The log's path, or a rotated copy's (`production.log.1`, `production.log.1.gz`). */
  path: string;
  /** The file read (for a compressed copy, the `.gz` file); null for bytes not read from a file. */
  identity: FileIdentity | null;
}

/** Where a line or an event came from: the file as read and the offset in its content. */
export interface LineSource extends SourceFile {
  /** Byte offset of the line's first byte in that file's content (uncompressed, for a `.gz` copy). */
  offset: number;
}

/** One line cut from a file's bytes by the splitter; knows where it came from. */
export interface Line {
  /** The line's text without its line ending, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** Path the line was read through: the log, or the rotated copy it was read from. */
  file: string;
  /** The file behind `file` (device and inode); null for bytes not read from a file. */
  identity: FileIdentity | null;
  /** Byte offset of the line's first byte in that file's content. */
  offset: number;
  /** Byte offset just past the line's newline: where reading resumes after this line. */
  end: number;
  /** True when the line was longer than the maximum and only its head was kept. */
  cut: boolean;
  /** True when the line's bytes were not valid UTF-8. */
  invalidUtf8: boolean;
}

/** Ruby Logger's severities, lowest first. */
export const SEVERITIES = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'ANY'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A Rack CommonLogger access line. */
export interface AccessRecord {
  kind: 'access';
  /** Epoch milliseconds, from the line's own timestamp and zone. */
  time: number;
  /** Client address, or the X-Forwarded-For list as written. */
  host: string;
  /** The Basic-auth user Rack wrote; null for `-`. */
  user: string | null;
  method: string;
  path: string;
  query: string | null;
  status: number;
  /** Response size in bytes; null where Rack wrote `-`. */
  size: number | null;
  durationSeconds: number;
  line: Line;
  /** Byte offset just past the record's last line. */
  end: number;
}

/** A Ruby Logger entry with its continuation lines (backtraces, multi-line messages). */
export interface LoggerRecord {
  kind: 'logger';
  time: number;
  pid: number;
  severity: Severity;
  progname: string;
  /** Rails-style `[tag]` prefixes taken off the message. */
  tags: string[];
  /** The whole message: the first line's text and every continuation line, joined by `\n`. */
  message: string;
  /** Number of physical lines the record spans. */
  lineCount: number;
  /** The record's first line. */
  line: Line;
  end: number;
}

/**
 * A web server's start-up line (Puma, WEBrick, Thin, Sinatra's own): the
 * backup-agent process has (re)started.
 */
export interface BannerRecord {
  kind: 'banner';
  /** Epoch milliseconds when the line carries a time, else null (the tracker takes its clock). */
  time: number | null;
  /** `puma`, `webrick`, `thin` or `sinatra`. */
  server: string;
  /** The new process id when the line names one. */
  pid: number | null;
  line: Line;
  end: number;
}

/**
 * Sinatra's `dump_errors!` report of an exception a handler raised:
 * `2018-11-20 12:13:00 - RuntimeError - boom:` and its tab-indented backtrace.
 */
export interface ExceptionRecord {
  kind: 'exception';
  /** Epoch milliseconds (written in the process's zone, as Logger times are). */
  time: number;
  errorClass: string;
  /** The first line's message and the backtrace, joined by `\n`. */
  message: string;
  lineCount: number;
  line: Line;
  end: number;
}

/**
 * A line a web server writes about a request the access log already has:
 * WEBrick's own access line (`127.0.0.1 - - [20/Nov/2018:12:12:30 UTC] "POST
 * /v1/restore HTTP/1.1" 200 21`) and its referer line (`- -> /v1/restore`).
 * Never a request of its own.
 */
export interface EchoRecord {
  kind: 'echo';
  /** Null: WEBrick writes the request's start, which would move the log's clock back. */
  time: null;
  server: 'webrick';
  path: string;
  line: Line;
  end: number;
}

export type UnknownReason = 'unmatched' | 'blank' | 'cut' | 'invalid-utf8';

/** A line that is neither format: counted, shown where useful, never fatal. */
export interface UnknownRecord {
  kind: 'unknown';
  reason: UnknownReason;
  line: Line;
  end: number;
}

/** What the parse stage hands to the tracker. */
export type LogRecord = AccessRecord | LoggerRecord | BannerRecord | ExceptionRecord | EchoRecord | UnknownRecord;

export type OperationKind = 'restore' | 'backup';
export const OPERATION_STATES = ['requested', 'running', 'stalled', 'succeeded', 'failed'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];
export const TERMINAL_STATES: readonly OperationState[] = ['succeeded', 'failed'];

/** A restore or backup in one of these states is over and never changes again. */
export function isTerminal(state: OperationState): boolean {
  return TERMINAL_STATES.includes(state);
}

export const EVENT_TYPES = [
  'restore.requested',
  'restore.progress',
  'restore.stalled',
  'restore.error',
  'restore.succeeded',
  'restore.failed',
  'backup.requested',
  'backup.progress',
  'backup.stalled',
  'backup.error',
  'backup.succeeded',
  'backup.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The summary of one restore or backup, as it stands after an event. The tracker
 * sets every field; those marked optional are absent from operations journaled by
 * earlier versions, which readers must still show.
 */
export interface Operation {
  kind: OperationKind;
  /** Stable id derived from the request line's time: the same on every replay of the same log. */
  id: string;
  state: OperationState;
  /**
   * When it was requested (the request line's time, or its handler's first line if
   * earlier). For an operation already running when the log begins (`requestSeen`
   * false), when it was first seen.
   */
  requestedAt: string;
  /** False for an operation whose request is not in the log (it began before the log did). */
  requestSeen?: boolean;
  /** The access line's host: who asked for it ('' when the request is not in the log). */
  requestedBy: string;
  /** The Basic-auth user on the request line; null when none was written. */
  requestedByUser?: string | null;
  /** HTTP status the request was answered with. */
  requestStatus: number;
  finishedAt: string | null;
  lastActivityAt: string;
  /** From request to end; null while active. */
  durationMs: number | null;
  /** Order polls answered 2xx. */
  orderPolls: number;
  /** Order polls answered otherwise (not progress), by status code. */
  failedPolls?: Record<string, number>;
  messages: number;
  lastMessage: string | null;
  /** Why it failed: the logger message in full, or the refused status. */
  failure: string | null;
  /** The named phase (from `track.rules.phases`) the last message entered; null before any. */
  phase?: string | null;
  /**
   * The backup id (e.g. `a9s-pg-1542859215559`) a record attributed to this
   * operation named: for a restore, the backup restored; for a backup, the one made.
   * Not to be confused with a `WatchEvent`'s `backupId`, the backup operation's id.
   */
  namedBackupId?: string | null;
  /** Errors logged during an operation that went on to end otherwise (first lines, at most a few). */
  warnings?: string[];
}

/**
 * One step in a restore's or backup's story. The same object is printed by
 * `replay --json`, returned by `/events` and written to the event stream.
 */
export interface WatchEvent {
  /** Strictly increasing from 1, across restarts. */
  id: number;
  type: EventType;
  /** ISO 8601 UTC, from the log line (for `stalled`: when the silence passed the threshold). */
  time: string;
  restoreId?: string;
  backupId?: string;
  /** The operation's state after this event. */
  state: OperationState;
  /** Source file and byte offset of the line's start (`source.path` and `source.offset`, kept for older readers). */
  file: string;
  offset: number;
  /**
   * Where the line was read: the log or the rotated copy, with its device and inode,
   * and the offset in that file's content. Absent on events made by silence (a
   * stall) and on events journaled before sources were recorded.
   */
  source?: LineSource;
  /** The raw source line, capped. */
  line: string;
  /** A one-line summary, or the logger message in full. */
  message: string;
  /** The operation as it stands after this event. */
  operation: Operation;
}
