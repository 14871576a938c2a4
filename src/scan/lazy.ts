/**
 * The lazy reader: the pipeline (split → parse → track) for a whole file, that
 * parses only the lines that can matter. Nearly every line of a production.log
 * is an order poll, a status check or chatter logged while no operation runs,
 * and while none runs the tracker is in a state where such lines make no event
 * and change nothing but what a later request line could claim (the look-back
 * of held records), the clock and the pid. That state ("idle", below) is
 * checked on the real tracker state, never assumed.
 *
 * While idle, lines are not parsed: their bytes are kept in a ring, and each
 * chunk is searched with Buffer.indexOf for fixed bytes of the lines that can
 * change more than that:
 *
 * - a request line that may start an operation: `"METHOD PREFIX`, from every
 *   restore and backup request rule's literal method and path prefix (a rule
 *   with no fixed prefix turns skipping off: every line is parsed);
 * - a Rails `Started … at …` line (it opens a request the tracker keeps);
 * - a server start-up banner (they begin with one of a few characters; only
 *   lines that do are decoded and checked with the banner parser itself).
 *
 * At such a line, or at the end, the ring is fed to the real pipeline from
 * where skipping began, then the line itself: the tracker sees every line it
 * would have seen, in order, so the events are the same. The ring stays small
 * because an order poll while idle drops every held record (the tracker's
 * `releaseHeld` before `onPoll`): the state after the last poll in the ring is
 * the idle state with nothing held, the clock of that poll and the pid of the
 * last logger line before it. So the ring is cut at its last poll (found by its
 * own needle, checked by the access parser and the rules) and the pipeline
 * rewound there; the lines before it are only counted.
 *
 * Line counts stay exact (lines are counted by their newlines); record-kind
 * counts cover the parsed lines only, so `replay`'s text summary, which prints
 * them, reads every line.
 */
import type { TrackerState } from '../track/tracker.js';
import type { WatchEvent } from '../model.js';
import { Pipeline, type PipelineOptions } from '../pipeline.js';
import { AccessParser } from '../parse/access.js';
import { LoggerParser, looksLikeLoggerLine } from '../parse/logger.js';
import { isTraceLine, parseBanner } from '../parse/server.js';
import { fixedOffsetConverter } from '../parse/timezone.js';
import { initialSplitState, splitChunk } from '../split/splitter.js';
import { findRequest, type TrackerRules } from '../track/rules.js';

const LF = 0x0a;
const CR = 0x0d;

/** How much the lazy reader keeps in memory, in bytes. */
export interface LazyLimits {
  /** The ring is cut at its last poll once it holds this much. */
  trimAt: number;
  /** A ring with no poll to cut at is fed to the pipeline past this size. */
  maxRing: number;
  /** An unfinished line longer than this goes to the pipeline, whose splitter keeps only its head. */
  maxPartial: number;
}

export const LAZY_LIMITS: LazyLimits = { trimAt: 256 * 1024, maxRing: 4 * 1024 * 1024, maxPartial: 1024 * 1024 };
const UTC = fixedOffsetConverter(0);

/** First bytes a server banner can start with (parse/server.ts: P, [, *, U, >, =). */
const BANNER_FIRST = new Uint8Array(256);
for (const c of 'P[*U>=') BANNER_FIRST[c.charCodeAt(0)] = 1;

/** The fixed bytes the idle tracker reacts to, from the compiled rules. */
export interface Needles {
  /** Every start request rule's `"METHOD PREFIX`. */
  starts: Buffer[];
  /** Every poll rule's `"METHOD PREFIX`; null when a poll rule has no fixed prefix (the ring is then never cut). */
  polls: Buffer[] | null;
}

const STARTED = Buffer.from('Started ');
const AT = Buffer.from(' at ');

/** The needles for `rules`, or null when a start rule gives no fixed bytes (then every line must be parsed). */
export function needlesFor(rules: TrackerRules): Needles | null {
  const bytes = (list: TrackerRules['restoreRequests']): Buffer[] | null => {
    const out: Buffer[] = [];
    for (const m of list) {
      if (m.literalPrefix === null) return null;
      out.push(Buffer.from(`"${m.method} ${m.literalPrefix}`));
    }
    return out;
  };
  const starts = bytes([...rules.restoreRequests, ...rules.backupRequests]);
  if (starts === null) return null;
  return { starts, polls: bytes(rules.progressRequests) };
}

/**
 * True when the tracker is idle in the sense above: no operation, none that
 * could begin unrequested (one was seen), no Rails request, refusal, restart or
 * failed polls pending, no request line for a server echo.
 */
export function trackerIdle(s: TrackerState): boolean {
  return (
    s.operations.length === 0 &&
    s.operationCount > 0 &&
    s.refusal === null &&
    s.restart === null &&
    s.requests.length === 0 &&
    s.failedByPolls === null &&
    s.lastRequest === null
  );
}

/** Split, parse and track one file from its start, parsing only the lines that can matter. */
export class LazyPipeline {
  readonly pipeline: Pipeline;
  private readonly needles: Needles | null;
  private skipping = false;
  /** File offset of the next byte pushed. */
  private offset: number;
  /** While skipping: the bytes of an unfinished line, as read (joined once its newline comes). */
  private partial: Buffer[] = [];
  private partialLength = 0;
  /** Lines skipped and not yet given to the pipeline, from `ringOffset` on. */
  private ring: Buffer;
  private ringLength = 0;
  private ringLines = 0;
  private ringOffset = 0;
  /** The tracker state at `ringOffset`. */
  private ringState: TrackerState | null = null;
  /** The ring was cut: the pipeline must be rewound to `ringOffset` before it reads it. */
  private rewound = false;
  /** Lines cut off the ring, to be counted when the pipeline is rewound. */
  private cutLines = 0;
  /** Needle hits in the buffer being scanned, cached across calls (-1: none left). */
  private hits: number[] = [];
  private hitsIn: Buffer | null = null;

  constructor(
    private readonly options: PipelineOptions,
    private readonly file: string,
    private readonly limits: LazyLimits = LAZY_LIMITS,
  ) {
    this.pipeline = new Pipeline(options, file);
    this.ring = Buffer.allocUnsafe(limits.trimAt * 2);
    this.needles = needlesFor(options.rules);
    this.offset = 0;
  }

  get counters(): Pipeline['counters'] {
    return this.pipeline.counters;
  }

  /** Takes the next bytes of the file. */
  push(chunk: Buffer): WatchEvent[] {
    const events: WatchEvent[] = [];
    let buf = chunk;
    let base = this.offset;
    this.offset += chunk.length;
    if (this.skipping && this.partialLength > 0) {
      if (chunk.indexOf(LF) === -1 && this.partialLength + chunk.length <= this.limits.maxPartial) {
        this.partial.push(Buffer.from(chunk));
        this.partialLength += chunk.length;
        return events;
      }
      buf = Buffer.concat([...this.partial, chunk]);
      base -= this.partialLength;
      this.partial = [];
      this.partialLength = 0;
    }
    const complete = buf.lastIndexOf(LF) + 1;
    this.process(buf, complete, base, events);
    if (complete < buf.length) {
      const rest = buf.subarray(complete);
      if (this.skipping && rest.length <= this.limits.maxPartial) {
        this.partial = [Buffer.from(rest)];
        this.partialLength = rest.length;
      } else {
        if (this.skipping) this.stopSkipping(events);
        append(events, this.pipeline.push(rest));
      }
    }
    return events;
  }

  /** The file is complete: the ring and a last line without a newline are read, and the tracker settles. */
  finish(): WatchEvent[] {
    const events: WatchEvent[] = [];
    if (this.skipping) {
      const partial = this.partial;
      this.partial = [];
      this.partialLength = 0;
      this.stopSkipping(events);
      for (const p of partial) append(events, this.pipeline.push(p));
    }
    append(events, this.pipeline.finish());
    return events;
  }

  private process(buf: Buffer, end: number, base: number, events: WatchEvent[]): void {
    let pos = 0;
    while (pos < end) {
      if (!this.skipping) {
        const next = buf.indexOf(LF, pos) + 1;
        append(events, this.pipeline.push(buf.subarray(pos, next)));
        pos = next;
        if (this.mayskip()) this.startSkipping(base + pos);
        continue;
      }
      const stop = this.firstThatMatters(buf, pos, end);
      if (stop.at > pos) this.keep(buf, pos, stop.at, stop.lines, events);
      pos = stop.at;
      // The line that matters is read by the pipeline, after what was skipped.
      if (pos < end && this.skipping) this.stopSkipping(events);
    }
  }

  private mayskip(): boolean {
    const p = this.pipeline;
    return (
      this.needles !== null &&
      p.decisions === null &&
      p.onLine === null &&
      p.onRecord === null &&
      p.atLineBoundary &&
      trackerIdle(p.trackerState)
    );
  }

  private startSkipping(offset: number): void {
    this.skipping = true;
    this.ringOffset = offset;
    this.ringState = this.pipeline.trackerState;
    this.ringLength = 0;
    this.ringLines = 0;
    this.rewound = false;
    this.cutLines = 0;
  }

  /** Gives what was skipped to the pipeline, which then reads every line until the tracker is idle again. */
  private stopSkipping(events: WatchEvent[]): void {
    this.skipping = false;
    // Only the lines after the last poll can still matter to the line that stopped skipping.
    if (this.ringLength > 0) this.cutAtLastPoll();
    if (this.rewound) this.pipeline.rewind(this.ringOffset, this.ringState!, this.cutLines);
    if (this.ringLength > 0) append(events, this.pipeline.push(this.ring.subarray(0, this.ringLength)));
    this.ringLength = 0;
    this.ringLines = 0;
    this.rewound = false;
    this.cutLines = 0;
  }

  /** Adds skipped lines to the ring; cuts it at its last poll, or gives it to the pipeline when it cannot be cut. */
  private keep(buf: Buffer, from: number, to: number, lines: number, events: WatchEvent[]): void {
    const n = to - from;
    if (this.ringLength + n > this.ring.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.ring.length * 2, this.ringLength + n));
      this.ring.copy(grown, 0, 0, this.ringLength);
      this.ring = grown;
    }
    buf.copy(this.ring, this.ringLength, from, to);
    this.ringLength += n;
    this.ringLines += lines;
    if (this.ringLength < this.limits.trimAt) return;
    this.cutAtLastPoll();
    if (this.ringLength < this.limits.maxRing) return;
    const offset = this.ringOffset + this.ringLength;
    this.stopSkipping(events);
    if (this.mayskip()) this.startSkipping(offset);
  }

  private cutAtLastPoll(): void {
    const polls = this.needles!.polls;
    if (polls === null) return;
    let below = this.ringLength;
    for (let tries = 0; tries < 16; tries++) {
      let hit = -1;
      for (const needle of polls) {
        const h = below <= 0 ? -1 : this.ring.lastIndexOf(needle, below - 1);
        if (h > hit) hit = h;
      }
      if (hit <= 0) return;
      const start = this.ring.lastIndexOf(LF, hit) + 1;
      if (start === 0) return;
      if (this.isIdlePoll(start)) {
        this.cutAt(start);
        return;
      }
      below = start;
    }
  }

  /**
   * True when the line at `start` of the ring is an order poll the idle tracker
   * reads as one: an access line (not a logger line, not a backtrace line, not
   * cut) with a zone, that no start rule takes and a poll rule does.
   */
  private isIdlePoll(start: number): boolean {
    const line = this.lineAt(start);
    if (line.cut || looksLikeLoggerLine(line.text) || isTraceLine(line.text)) return false;
    const parsed = new AccessParser().parse(line.text);
    if (!parsed.ok || parsed.value.zoneMinutes === null) return false;
    const { method, path } = parsed.value;
    const rules = this.options.rules;
    return (
      findRequest(rules.restoreRequests, method, path) === null &&
      findRequest(rules.backupRequests, method, path) === null &&
      findRequest(rules.progressRequests, method, path) !== null
    );
  }

  /** Drops the ring's bytes before `start` (a poll): the state there is the idle state with nothing held. */
  private cutAt(start: number): void {
    const kept = countLines(this.ring, start, this.ringLength);
    const state = this.ringState!;
    this.ringState = { ...state, held: [], heldChars: 0, pid: this.lastPidBefore(start) ?? state.pid };
    this.cutLines += this.ringLines - kept;
    this.ringLines = kept;
    this.ring.copy(this.ring, 0, start, this.ringLength);
    this.ringLength -= start;
    this.ringOffset += start;
    this.rewound = true;
  }

  /** The pid of the last logger line in the ring before `start`, or null when there is none. */
  private lastPidBefore(start: number): number | null {
    const ring = this.ring;
    const parser = new LoggerParser();
    let end = start - 1; // the newline ending the line before
    while (end > 0) {
      const s = ring.lastIndexOf(LF, end - 1) + 1;
      if (ring[s + 1] === 0x2c && ring[s + 3] === 0x5b) {
        const parsed = parser.parse(this.lineAt(s).text, UTC);
        if (parsed.ok) return parsed.value.pid;
      }
      end = s - 1;
    }
    return null;
  }

  /** The ring's line at `start` as the splitter makes it. */
  private lineAt(start: number): ReturnType<typeof splitChunk>['lines'][number] {
    const end = this.ring.indexOf(LF, start) + 1;
    const { lines } = splitChunk(initialSplitState(this.ringOffset + start), this.ring.subarray(start, end), this.file, this.options.maxLineBytes);
    return lines[0]!;
  }

  /**
   * The start of the first line in [pos, end) the idle tracker may react to
   * (`end` when none), and how many lines come before it.
   */
  private firstThatMatters(buf: Buffer, pos: number, end: number): { at: number; lines: number } {
    const needles = this.needles!;
    if (this.hitsIn !== buf) {
      this.hitsIn = buf;
      this.hits = new Array<number>(needles.starts.length + 1).fill(-2);
    }
    let first = end;
    for (let i = 0; i < needles.starts.length; i++) {
      let h = this.hits[i]!;
      if (h === -2 || (h !== -1 && h < pos)) h = this.hits[i] = buf.indexOf(needles.starts[i]!, pos);
      if (h !== -1 && h < first) first = h;
    }
    const k = needles.starts.length;
    let h = this.hits[k]!;
    if (h === -2 || (h !== -1 && h < pos)) h = this.hits[k] = this.nextRailsStarted(buf, pos, end);
    if (h !== -1 && h < first) first = h;
    const limit = first >= end ? end : buf.lastIndexOf(LF, first) + 1;
    // Banners start at a line's first byte: every line start up to the first hit is looked at.
    let lines = 0;
    let p = pos;
    while (p < limit) {
      if (BANNER_FIRST[buf[p]!] === 1 && this.isBanner(buf, p)) return { at: p, lines };
      p = buf.indexOf(LF, p) + 1;
      lines++;
    }
    return { at: limit, lines };
  }

  /** The next `Started ` with ` at ` later on its line (a Rails request line may follow), or -1. */
  private nextRailsStarted(buf: Buffer, pos: number, end: number): number {
    let from = pos;
    while (from < end) {
      const h = buf.indexOf(STARTED, from);
      if (h === -1 || h >= end) return -1;
      const eol = buf.indexOf(LF, h);
      if (buf.subarray(h + STARTED.length, eol).indexOf(AT) !== -1) return h;
      from = eol + 1;
    }
    return -1;
  }

  private isBanner(buf: Buffer, start: number): boolean {
    let stop = buf.indexOf(LF, start);
    if (stop > start && buf[stop - 1] === CR) stop--;
    // A cut line is never a banner (the assembler reads only its head, as a logger line or nothing).
    if (stop - start > this.options.maxLineBytes) return false;
    return parseBanner(buf.toString('utf8', start, stop), UTC) !== null;
  }
}

function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let p = buf.indexOf(LF, from); p !== -1 && p < to; p = buf.indexOf(LF, p + 1)) n++;
  return n;
}

function append(to: WatchEvent[], events: WatchEvent[]): void {
  for (const e of events) to.push(e);
}
