/**
 * The offline half of the pipeline, split → parse → track, wired once so that
 * `replay` and the live agent run the same code. It takes bytes of one file in
 * order and returns events; it counts what it saw. It does no I/O.
 */
import type { Config } from './config.js';
import type { Line, LogRecord, SourceFile, UnknownReason, WatchEvent } from './model.js';
import { RecordAssembler, type ZoneState } from './parse/records.js';
import { flushSplit, initialSplitState, resumeOffset, sourceFile, splitChunk, type SplitState } from './split/splitter.js';
import { compileRules, type TrackerRules } from './track/rules.js';
import {
  initialTrackerState,
  trackEnd,
  trackFileEnd,
  trackRecord,
  trackTick,
  upgradeTrackerState,
  type Decision,
  type TrackerState,
} from './track/tracker.js';

export interface PipelineCounters {
  lines: number;
  cutLines: number;
  records: Record<LogRecord['kind'], number>;
  unknown: Record<UnknownReason, number>;
  events: number;
}

export interface PipelineOptions {
  timezone: string;
  maxLineBytes: number;
  rules: TrackerRules;
}

export function pipelineOptions(config: Config): PipelineOptions {
  return {
    timezone: config.log.timezone,
    maxLineBytes: config.log.maxLineBytes,
    rules: compileRules(config.track.rules, config.track.stallAfterSeconds * 1000),
  };
}

const NO_OPTIONS = {};

/** Split, parse and track for one file at a time; `startFile` switches files, keeping the tracker. */
export class Pipeline {
  readonly counters: PipelineCounters = {
    lines: 0,
    cutLines: 0,
    records: { access: 0, logger: 0, banner: 0, exception: 0, echo: 0, unknown: 0 },
    unknown: { unmatched: 0, blank: 0, cut: 0, 'invalid-utf8': 0 },
    events: 0,
  };
  private split: SplitState;
  /** The file the next bytes come from: every line cut from them names it. */
  private from: SourceFile;
  private assembler: RecordAssembler;
  private tracker: TrackerState;
  /** Called for every record, for those who count or log them. */
  onRecord: ((record: LogRecord) => void) | null = null;
  /** Called for every line, before it is parsed (`replay --explain`). */
  onLine: ((line: Line) => void) | null = null;
  /** When set, the tracker says here how it told every record (`replay --explain`). */
  decisions: Decision[] | null = null;

  constructor(
    private readonly options: PipelineOptions,
    file: SourceFile | string,
    offset = 0,
    tracker: TrackerState = initialTrackerState(),
    zone: ZoneState | null = null,
  ) {
    this.from = sourceFile(file);
    this.split = initialSplitState(offset);
    this.assembler = this.newAssembler(zone);
    this.tracker = upgradeTrackerState(tracker);
  }

  get trackerState(): TrackerState {
    return this.tracker;
  }

  /** What the parser learned of the zone (`timezone: auto`), as of `position`; null with a fixed zone. */
  get zoneState(): ZoneState | null {
    return this.assembler.zone;
  }

  private newAssembler(zone: ZoneState | null): RecordAssembler {
    return new RecordAssembler({ timezone: this.options.timezone, maxMessageChars: this.options.maxLineBytes, zone });
  }

  /** The file and the offset to resume from so that nothing is read twice or missed. */
  get position(): { file: string; offset: number } {
    const pending = this.assembler.pendingOffset;
    return { file: this.from.path, offset: pending ?? resumeOffset(this.split) };
  }

  /**
   * True between lines: no bytes of an unfinished line and no logger entry
   * waiting for its continuation lines. A skipping reader (scan/lazy.ts) may
   * leave the pipeline only here.
   */
  get atLineBoundary(): boolean {
    return this.assembler.pendingOffset === null && resumeOffset(this.split) === this.split.offset;
  }

  /**
   * Continues at `offset` of the current file with `tracker` and a fresh parser,
   * as if the bytes before `offset` had been read: for a skipping reader that
   * knows the state the skipped lines would have left (`zone`: the parser's, null for
   * none learned). `skippedLines` are counted.
   */
  rewind(offset: number, tracker: TrackerState, zone: ZoneState | null, skippedLines: number): void {
    this.split = initialSplitState(offset);
    this.assembler = this.newAssembler(zone);
    this.tracker = tracker;
    this.counters.lines += skippedLines;
  }

  /** Starts reading another file (after a rotation) at `offset`; what was pending is finished first. */
  startFile(file: SourceFile | string, offset = 0): WatchEvent[] {
    const events = this.completeFile();
    this.from = sourceFile(file);
    this.split = initialSplitState(offset);
    return events;
  }

  /**
   * Takes the next bytes of the current file's content. `from` names where they were
   * read when that is another file holding the same content (a rotated copy holding
   * what a truncated file had): lines completed from here on name it.
   */
  push(chunk: Buffer, from?: SourceFile): WatchEvent[] {
    if (from !== undefined) this.from = from;
    const chunkOffset = this.split.offset;
    const { state, lines, ascii } = splitChunk(this.split, chunk, this.from, this.options.maxLineBytes);
    this.split = state;
    if (lines.length === 0) return [];
    const events: WatchEvent[] = [];
    // The parser reads an access line from its bytes where it can; the chunk is not kept.
    const bytes = ascii ? chunk : null;
    for (const line of lines) {
      this.counters.lines++;
      if (line.cut) this.counters.cutLines++;
      this.onLine?.(line);
      this.trackAll(this.assembler.push(line, bytes, chunkOffset), events);
    }
    return events;
  }

  /** The input has paused (end of what is written so far): finish a pending logger entry. */
  pause(): WatchEvent[] {
    const events: WatchEvent[] = [];
    this.trackAll(this.assembler.flush(), events);
    return events;
  }

  /**
   * The file is complete: a last line without a newline counts too, and what the
   * tracker held back for a request line of this file is told.
   */
  end(): WatchEvent[] {
    const events = this.completeFile();
    this.settle(trackFileEnd(this.tracker, this.options.rules, { decisions: this.decisions }), events);
    return events;
  }

  private settle(result: { state: TrackerState; events: WatchEvent[] }, events: WatchEvent[]): void {
    this.tracker = result.state;
    this.counters.events += result.events.length;
    for (const e of result.events) events.push(e);
  }

  private completeFile(): WatchEvent[] {
    const { state, lines } = flushSplit(this.split, this.from);
    this.split = state;
    const events: WatchEvent[] = [];
    for (const line of lines) {
      this.counters.lines++;
      if (line.cut) this.counters.cutLines++;
      this.onLine?.(line);
      this.trackAll(this.assembler.push(line), events);
    }
    this.trackAll(this.assembler.flush(), events);
    return events;
  }

  /**
   * The input is complete and nothing more will come (`replay` at the end of the
   * file): the last line is read, and what the tracker held back or left pending
   * is settled. The live agent never calls this: for it more lines may come.
   */
  finish(): WatchEvent[] {
    const events = this.completeFile();
    this.settle(trackEnd(this.tracker, this.options.rules, { decisions: this.decisions }), events);
    return events;
  }

  /**
   * Moves the numbering of events on by `shift`: after a restart, when the log no
   * longer holds the bytes that made events already journaled, new events must not
   * take their ids.
   */
  shiftEventIds(shift: number): void {
    this.tracker = { ...this.tracker, nextEventId: this.tracker.nextEventId + shift };
  }

  /** Lets the tracker notice silence at `now` (log clock). */
  tick(now: number): WatchEvent[] {
    const { state, events } = trackTick(this.tracker, now, this.options.rules, { decisions: this.decisions });
    this.tracker = state;
    this.counters.events += events.length;
    return events;
  }

  /** Spelled out: a count indexed by the record's kind was a megamorphic load and store for every record. */
  private count(record: LogRecord): void {
    const records = this.counters.records;
    switch (record.kind) {
      case 'access':
        records.access++;
        break;
      case 'logger':
        records.logger++;
        break;
      case 'unknown':
        records.unknown++;
        this.counters.unknown[record.reason]++;
        break;
      default:
        records[record.kind]++;
    }
  }

  /** An index, not for…of: an iterator per line was most of the garbage the pipeline itself made. */
  private trackAll(records: LogRecord[], events: WatchEvent[]): void {
    for (let i = 0; i < records.length; i++) this.track(records[i]!, events);
  }

  private track(record: LogRecord, events: WatchEvent[]): void {
    this.count(record);
    this.onRecord?.(record);
    const result = trackRecord(this.tracker, record, this.options.rules, this.decisions === null ? NO_OPTIONS : { decisions: this.decisions });
    this.tracker = result.state;
    if (result.events.length > 0) {
      this.counters.events += result.events.length;
      for (let i = 0; i < result.events.length; i++) events.push(result.events[i]!);
    }
  }
}
