/**
 * Owns the pipeline (split → parse → track) as the agent drives it from the
 * follower: the bytes of one content after another, pauses at the end of what is
 * written, rotations, ticks. It reads through the lazy reader (scan/lazy.ts), so
 * that catching up on a long log parses only the lines the idle tracker can react
 * to; the events are those of the full parse, and `position` with `trackerState`
 * is always a point a restart may resume from with the same events: while lines
 * are being skipped, the start of the skipped run and the state there.
 *
 * At every pause (the end of what is written so far), before a tick, a rotation
 * or a change of the file the bytes are read from, what was skipped is given to
 * the pipeline first: from there on the agent is exactly where the full parse
 * would be. Live, then, the lazy reader only ever holds what one check read.
 */
import type { SourceFile, WatchEvent } from '../model.js';
import type { ZoneState } from '../parse/records.js';
import { Pipeline, type PipelineCounters, type PipelineOptions } from '../pipeline.js';
import { LAZY_LIMITS, LazyPipeline, type LazyLimits } from '../scan/lazy.js';
import { sameFile } from '../tail/identity.js';
import type { TrackerState } from '../track/tracker.js';

const EMPTY = Buffer.alloc(0);

export class LogReader {
  private readonly pipeline: Pipeline;
  private lazy: LazyPipeline;
  /** The file the bytes come from, as the pipeline last named it. */
  private from: SourceFile;

  constructor(
    private readonly options: PipelineOptions,
    file: string,
    offset = 0,
    tracker?: TrackerState,
    private readonly limits: LazyLimits = LAZY_LIMITS,
    zone: ZoneState | null = null,
  ) {
    this.pipeline = new Pipeline(options, file, offset, tracker, zone);
    this.from = { path: file, identity: null };
    this.lazy = new LazyPipeline(options, file, limits, this.pipeline);
  }

  /** The next bytes of the current content, read from `from`. */
  push(chunk: Buffer, from?: SourceFile): WatchEvent[] {
    let events: WatchEvent[] = [];
    if (from !== undefined && !sameSource(from, this.from)) {
      // Lines completed from here on name the new file; those skipped before it name the old one.
      events = this.lazy.flush();
      this.pipeline.push(EMPTY, from);
      this.from = from;
    }
    return join(events, this.lazy.push(chunk));
  }

  /** The end of what is written so far: everything read is parsed, and a pending logger entry told. */
  pause(): WatchEvent[] {
    return join(this.lazy.flush(), this.pipeline.pause());
  }

  /** Another content starts at `offset` (rotation, truncation, a copy read first). */
  startFile(from: SourceFile, offset = 0): WatchEvent[] {
    const events = join(this.lazy.flush(), this.pipeline.startFile(from, offset));
    this.from = from;
    this.lazy = new LazyPipeline(this.options, from.path, this.limits, this.pipeline);
    return events;
  }

  /** The current content is complete (rotated away and read to its end). */
  end(): WatchEvent[] {
    return join(this.lazy.flush(), this.pipeline.end());
  }

  /** Lets the tracker notice silence at `now` (log clock). */
  tick(now: number): WatchEvent[] {
    return join(this.lazy.flush(), this.pipeline.tick(now));
  }

  shiftEventIds(shift: number): void {
    this.lazy.shiftEventIds(shift);
  }

  /** The file and the offset a checkpoint may resume from (see the header). */
  get position(): { file: string; offset: number } {
    return { file: this.pipeline.position.file, offset: this.lazy.resumePoint.offset };
  }

  /** The tracker's state at `position`. */
  get trackerState(): TrackerState {
    return this.lazy.resumePoint.tracker;
  }

  /** The zone the parser learned (`timezone: auto`) as of `position`: a checkpoint keeps it with the tracker's state. */
  get zoneState(): ZoneState | null {
    return this.lazy.resumePoint.zone;
  }

  /** The pipeline's counters, with the lines skipped so far counted (record kinds count parsed lines only). */
  get counters(): PipelineCounters {
    return { ...this.pipeline.counters, lines: this.lazy.lines };
  }
}

function sameSource(a: SourceFile, b: SourceFile): boolean {
  if (a.path !== b.path) return false;
  if (a.identity === null || b.identity === null) return a.identity === b.identity;
  return sameFile(a.identity, b.identity);
}

function join(a: WatchEvent[], b: WatchEvent[]): WatchEvent[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...a, ...b];
}
