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
 * chunk is searched for fixed bytes of the lines that can change more than that
 * (in one pass by simd-scan.ts, or with Buffer.indexOf where WebAssembly SIMD is
 * missing):
 *
 * - a request line that may start an operation: `"METHOD PREFIX`, from every
 *   restore and backup request rule's literal method and path prefix (a rule
 *   with no fixed prefix turns skipping off: every line is parsed);
 * - a Rails `Started … at …` line (it opens a request the tracker keeps);
 * - a server start-up banner (they begin with one of a few characters; only
 *   lines that do are decoded and checked with the banner parser itself);
 * - before the tracker has seen any operation, a line that may be part of a
 *   message a phase rule with a kind matches, which would begin one (the log
 *   began during it): one with a word every such message contains (see
 *   required-words.ts; a phase rule that gives none turns skipping off until
 *   the first operation), or a Sinatra exception report's first line.
 *
 * At such a line, or at the end, the ring is fed to the real pipeline from
 * where skipping began, then the line itself: the tracker sees every line it
 * would have seen, in order, so the events are the same. The ring stays small
 * because what the idle tracker holds back is bounded (MAX_HELD records, and
 * only those within IDLE_HOLD_MS of the latest): the ring is cut at an access
 * line when the lines around it, parsed, prove that whatever was held there is
 * dropped by a later record before it could matter (see `cutRing`), and
 * the pipeline is rewound there with nothing held; the lines before it are
 * only counted.
 *
 * The needles and the scan for them are in needles.ts. Length: what is left is one
 * state machine (skipping or not, the ring, the point it was cut at with the
 * tracker and zone state there, the unfinished line), whose every transition
 * changes several of those at once; they stay in one class so that each can be
 * checked against the others.
 *
 * Line counts stay exact (lines are counted by their newlines); record-kind
 * counts cover the parsed lines only, so `replay`'s text summary, which prints
 * them, reads every line.
 */
import type { TrackerState } from '../track/tracker.js';
import type { TrackerRules } from '../track/rules.js';
import type { Line, LogRecord, WatchEvent } from '../model.js';
import { Pipeline, type PipelineOptions } from '../pipeline.js';
import { AccessParser } from '../parse/access.js';
import { initialSplitState, splitChunk } from '../split/splitter.js';
import { IDLE_HOLD_MS, MAX_HELD } from '../track/tracker.js';
import { RecordAssembler, type ZoneState } from '../parse/records.js';
import { NeedleScan, needlesFor } from './needles.js';

export { needlesFor, type Needles } from './needles.js';

const LF = 0x0a;

/** How much the lazy reader keeps in memory, in bytes. */
export interface LazyLimits {
  /** The ring is cut at its last poll once it holds this much. */
  trimAt: number;
  /** A ring with no poll to cut at is fed to the pipeline past this size. */
  maxRing: number;
  /** An unfinished line longer than this goes to the pipeline, whose splitter keeps only its head. */
  maxPartial: number;
}

// Each cut parses the few hundred lines around it: a 4 MiB ring cuts a quiet log a quarter as often as
// a 1 MiB one did (only its written part is resident). At most the ring's first allocation is kept.
export const LAZY_LIMITS: LazyLimits = { trimAt: 4 * 1024 * 1024, maxRing: 8 * 1024 * 1024, maxPartial: 1024 * 1024 };
/** How much of the ring the pipeline is given at a time. */
const RING_SLICE = 64 * 1024;
/**
 * Bytes (whole lines, about 16 of a log's access lines) given to the pipeline at a time while it
 * reads every line (see `process`), at first; doubled while the tracker stays busy, up to the most.
 */
const PARSE_RUN_BYTES = 1536;
const MAX_PARSE_RUN_BYTES = 32 * 1024;
/** Severities a request line may claim out of order (the tracker's `isTrouble`, with exception reports). */
const TROUBLE: ReadonlySet<string> = new Set(['WARN', 'ERROR', 'FATAL']);
/** First letters of the other severities' logger lines (DEBUG, INFO, ANY). */
const QUIET_FIRST = new Uint8Array(256);
for (const c of 'DIA') QUIET_FIRST[c.charCodeAt(0)] = 1;

/**
 * True when the tracker is idle in the sense above: no operation, none that
 * could begin unrequested (one was seen), no Rails request, refusal, restart or
 * failed polls pending, no request line for a server echo.
 */
export function trackerIdle(s: TrackerState): boolean {
  return s.operationCount > 0 && idleBeforeFirstOperation(s, null);
}

/**
 * The same before the first operation, when a logger or exception record a phase
 * rule with a kind matches would begin one once told (`tell` in track/held.ts):
 * nothing held is such a record (`phases`; null: not checked), and the scan stops
 * at every line that may be part of one.
 */
function idleBeforeFirstOperation(s: TrackerState, phases: TrackerRules['phases'] | null): boolean {
  return (
    s.operations.length === 0 &&
    s.refusal === null &&
    s.restart === null &&
    s.requests.length === 0 &&
    s.failedByPolls === null &&
    s.lastRequest === null &&
    (phases === null || s.held.every((h) => !phases.some((p) => p.kind !== null && p.regex.test(h.message))))
  );
}

/** Split, parse and track one file from its start, parsing only the lines that can matter. */
export class LazyPipeline {
  readonly pipeline: Pipeline;
  /** Reads the access lines a cut is tried at (it keeps the last time stamp's time). */
  private readonly accessParser = new AccessParser();
  /** Finds the lines that matter while skipping; null when a rule gives no fixed bytes. */
  private readonly scan: NeedleScan | null;
  private skipping = false;
  /** The bytes of the next run given to the pipeline while it reads every line. */
  private runBytes = PARSE_RUN_BYTES;
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
  /** The parser's zone state at `ringOffset` (`timezone: auto`). */
  private ringZone: ZoneState | null = null;
  /** The ring was cut: the pipeline must be rewound to `ringOffset` before it reads it. */
  private rewound = false;
  /** Lines cut off the ring, to be counted when the pipeline is rewound. */
  private cutLines = 0;

  /** `pipeline`: one to continue, between two lines of the file (the live agent's, resumed from a checkpoint). */
  constructor(
    private readonly options: PipelineOptions,
    private readonly file: string,
    private readonly limits: LazyLimits = LAZY_LIMITS,
    pipeline?: Pipeline,
  ) {
    this.pipeline = pipeline ?? new Pipeline(options, file);
    this.ring = Buffer.allocUnsafe(limits.trimAt * 2);
    const needles = needlesFor(options.rules);
    this.scan = needles === null ? null : new NeedleScan(needles, options.maxLineBytes);
    this.offset = this.pipeline.position.offset;
  }

  /**
   * When set, events go here as they are made, a line's at a time, instead of into
   * the array `push` returns: a caller that writes them out at once keeps only a
   * line's events alive, not a chunk's (hundreds on a busy log, each with its
   * operation, copied by every minor collection until the chunk is done).
   */
  onEvents: ((events: WatchEvent[]) => void) | null = null;

  get counters(): Pipeline['counters'] {
    return this.pipeline.counters;
  }

  /** Lines read, those skipped and not yet given to the pipeline included. */
  get lines(): number {
    return this.pipeline.counters.lines + (this.skipping ? this.ringLines + this.cutLines : 0);
  }

  /**
   * Where reading may start again with the same events (a checkpoint): the
   * pipeline's position and state, or while skipping the ring's start and the
   * state there, which the skipped lines after it do not change; with the parser's
   * zone state there.
   */
  get resumePoint(): { offset: number; tracker: TrackerState; zone: ZoneState | null } {
    if (this.skipping) return { offset: this.ringOffset, tracker: this.ringState!, zone: this.ringZone };
    return { offset: this.pipeline.position.offset, tracker: this.pipeline.trackerState, zone: this.pipeline.zoneState };
  }

  /** Pipeline.shiftEventIds, for the state the ring is read from too. */
  shiftEventIds(shift: number): void {
    this.pipeline.shiftEventIds(shift);
    if (this.ringState !== null) this.ringState = { ...this.ringState, nextEventId: this.ringState.nextEventId + shift };
  }

  /** Takes the next bytes of the file. */
  push(chunk: Buffer): WatchEvent[] {
    const events: WatchEvent[] = [];
    let buf = chunk;
    let base = this.offset;
    let start = 0;
    this.offset += chunk.length;
    if (this.skipping && this.partialLength > 0) {
      const first = chunk.indexOf(LF);
      if (first === -1 && this.partialLength + chunk.length <= this.limits.maxPartial) {
        this.partial.push(Buffer.from(chunk));
        this.partialLength += chunk.length;
        return events;
      }
      if (first === -1) {
        buf = Buffer.concat([...this.partial, chunk]);
        base -= this.partialLength;
      } else {
        // Only the line that spans the chunks is joined: copying the whole chunk each time makes garbage.
        const line = Buffer.concat([...this.partial, chunk.subarray(0, first + 1)]);
        this.process(line, line.length, base - this.partialLength, 0, events);
        start = first + 1;
      }
      this.partial = [];
      this.partialLength = 0;
    }
    const complete = buf.lastIndexOf(LF) + 1;
    if (complete > start) this.process(buf, complete, base, start, events);
    if (complete < buf.length) {
      const rest = buf.subarray(complete);
      if (this.skipping && rest.length <= this.limits.maxPartial) {
        this.partial = [Buffer.from(rest)];
        this.partialLength = rest.length;
      } else {
        if (this.skipping) this.stopSkipping(events);
        this.deliver(events, this.pipeline.push(rest));
      }
    }
    return events;
  }

  /**
   * Where the caller may read the next chunk of at most `size` bytes before giving it
   * to `push`, or null (its own buffer): while lines are being skipped, the free end
   * of the ring past room for the unfinished line (`push` writes it there joined with
   * the chunk's first line), so that what is skipped of the chunk is already where
   * `keep` would copy it. What `push` keeps of a chunk read anywhere else is copied.
   */
  readBuffer(size: number): Buffer | null {
    const at = this.ringLength + this.partialLength;
    if (!this.skipping || at + size > this.ring.length) return null;
    return this.ring.subarray(at, at + size);
  }

  /** The file is complete: the ring and a last line without a newline are read, and the tracker settles. */
  finish(): WatchEvent[] {
    const events = this.flush();
    this.deliver(events, this.pipeline.finish());
    return events;
  }

  /** Gives the pipeline what was skipped and the bytes of an unfinished line: it is then where a full parse would be. */
  flush(): WatchEvent[] {
    const events: WatchEvent[] = [];
    if (this.skipping) {
      const partial = this.partial;
      this.partial = [];
      this.partialLength = 0;
      this.stopSkipping(events);
      for (const p of partial) this.deliver(events, this.pipeline.push(p));
    }
    return events;
  }

  private process(buf: Buffer, end: number, base: number, start: number, events: WatchEvent[]): void {
    let pos = start;
    let oneLine = false;
    while (pos < end) {
      if (!this.skipping) {
        // While an operation runs, lines go to the pipeline in runs of 1.5 to 32 KiB: a call
        // per line cost more than its parse on a log dense with events. Skipping may then
        // begin up to a run after the tracker fell idle, which only parses those lines;
        // once it is idle, a line at a time until the record being read is complete.
        // The runs grow while the tracker stays busy: each run has a cost of its own (a
        // slice, a split, a look at the tracker), and the dense bench log took 7 % less CPU
        // in runs growing to 32 KiB than in runs of 1.5 KiB, while the quiet one, busy
        // only now and then, took 15 % more in runs of 16 KiB throughout (timed by hand).
        // A run is cut at the last newline of its bytes (`buf[end - 1]` is one): a search
        // for each of its lines' newlines found them all a second time, as the splitter does.
        let next = end;
        if (oneLine) next = buf.indexOf(LF, pos) + 1;
        else if (end - pos > this.runBytes) {
          const last = buf.lastIndexOf(LF, pos + this.runBytes - 1);
          next = last >= pos ? last + 1 : buf.indexOf(LF, pos) + 1;
        }
        this.deliver(events, this.pipeline.push(buf.subarray(pos, next)));
        pos = next;
        const may = this.skipState();
        if (may === 'skip') {
          this.runBytes = PARSE_RUN_BYTES;
          this.startSkipping(base + pos);
        } else if (may === 'busy') {
          this.runBytes = Math.min(2 * this.runBytes, MAX_PARSE_RUN_BYTES);
        }
        oneLine = may === 'unfinished';
        continue;
      }
      const stop = this.scan!.firstThatMatters(buf, pos, end, this.ringState!.operationCount === 0);
      if (stop.at > pos) this.keep(buf, pos, stop.at, stop.lines, events);
      pos = stop.at;
      // The line that matters is read by the pipeline, after what was skipped.
      if (pos < end && this.skipping) this.stopSkipping(events);
    }
  }

  private mayskip(): boolean {
    return this.skipState() === 'skip';
  }

  /** Whether lines may be skipped from here: yes, once the record being read is complete, or not while the tracker is busy. */
  private skipState(): 'skip' | 'unfinished' | 'busy' {
    const p = this.pipeline;
    if (this.scan === null || p.decisions !== null || p.onLine !== null || p.onRecord !== null) return 'busy';
    const s = p.trackerState;
    const idle = s.operationCount > 0 ? trackerIdle(s) : this.scan.skipsBeforeFirstOperation && idleBeforeFirstOperation(s, this.options.rules.phases);
    if (!idle) return 'busy';
    return p.atLineBoundary ? 'skip' : 'unfinished';
  }

  private startSkipping(offset: number): void {
    this.skipping = true;
    this.ringOffset = offset;
    this.ringState = this.pipeline.trackerState;
    this.ringZone = this.pipeline.zoneState;
    this.ringLength = 0;
    this.ringLines = 0;
    this.rewound = false;
    this.cutLines = 0;
  }

  /** Gives what was skipped to the pipeline, which then reads every line until the tracker is idle again. */
  private stopSkipping(events: WatchEvent[]): void {
    this.skipping = false;
    // Only the lines after the last poll can still matter to the line that stopped skipping.
    if (this.ringLength > 0) this.cutRing();
    if (this.rewound) this.pipeline.rewind(this.ringOffset, this.ringState!, this.ringZone, this.cutLines);
    // In slices: the pipeline makes every line of what it is given at once, and a ring that could not be cut holds megabytes.
    for (let p = 0; p < this.ringLength; p += RING_SLICE) {
      this.deliver(events, this.pipeline.push(this.ring.subarray(p, Math.min(p + RING_SLICE, this.ringLength))));
    }
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
    // A chunk read where `readBuffer` said is there already.
    if (buf.buffer !== this.ring.buffer || buf.byteOffset + from !== this.ring.byteOffset + this.ringLength) buf.copy(this.ring, this.ringLength, from, to);
    this.ringLength += n;
    this.ringLines += lines;
    if (this.ringLength < this.limits.trimAt) return;
    this.cutRing();
    if (this.ringLength < this.limits.maxRing) return;
    const offset = this.ringOffset + this.ringLength;
    this.stopSkipping(events);
    if (this.mayskip()) this.startSkipping(offset);
  }

  /**
   * Cuts the ring so that it begins at a zoned access line A some lines before
   * its end, when that is exact: the records held at A (none from before the
   * last MAX_HELD logger records no request line can claim, see `tryCutWith`,
   * or the entry state's held ones) are all older than the look-back window of a record x after A, so the
   * tracker drops them at x whatever they were; and no record between A and x
   * is older than they are, so they never kept one of those from being dropped.
   * From x on, the tracker started at A with nothing held is in the state the
   * whole ring would have left. Only the lines around A are parsed to check it.
   */
  private cutRing(): void {
    const end = this.ringLength;
    for (let span = 32; ; span *= 4) {
      const a = this.accessLineBefore(this.linesBack(end, span));
      if (a <= 0) return;
      if (this.tryCut(a, end)) return;
    }
  }

  /** The start of the line `n` lines before ring index `end` (0 at the ring's start). */
  private linesBack(end: number, n: number): number {
    let p = end - 1;
    for (let i = 0; i < n && p > 0; i++) p = this.ring.lastIndexOf(LF, p - 1);
    return p <= 0 ? 0 : p + 1;
  }

  /** The start of the last zoned access line at or before `from` (searching back at most 256 lines), or 0. */
  private accessLineBefore(from: number): number {
    let s = from;
    for (let i = 0; i < 256 && s > 0; i++) {
      if (this.isZonedAccess(s)) return s;
      s = this.linesBack(s, 1);
    }
    return 0;
  }

  private isZonedAccess(start: number): boolean {
    // What isZonedAccessLine refuses by its first bytes is refused before the line is made.
    const c = this.ring[start]!;
    if (c === 0x09 || (this.ring[start + 1] === 0x2c && this.ring[start + 3] === 0x5b)) return false;
    return this.isZonedAccessLine(this.lineAt(start));
  }

  /** True when `line` is read as an access line with a zone in its stamp. */
  private isZonedAccessLine(line: Line): boolean {
    const t = line.text;
    // A trace line starts with a tab; a logger line has `,` and `[` after its severity letter.
    if (line.cut || t.charCodeAt(0) === 0x09 || (t.charCodeAt(1) === 0x2c && t.charCodeAt(3) === 0x5b)) return false;
    return this.accessParser.record(line) !== null && this.accessParser.zoneMinutes !== null;
  }

  private tryCut(a: number, end: number): boolean {
    for (let want = MAX_HELD; want <= 4 * MAX_HELD; want *= 2) {
      const cut = this.tryCutWith(a, end, want);
      if (cut !== 'too few') return cut;
    }
    return false;
  }

  /**
   * The candidates for what is held at A: every record from a zoned access line
   * before the last `want` logger-looking lines before A. Only a request line
   * takes held records out of order, and only errors and warnings; so once
   * MAX_HELD records that are neither were held after a record, it is gone
   * (dropped by the bound, or by time before them). Too few such records among
   * the candidates, and more lines must be read.
   */
  private tryCutWith(a: number, end: number, want: number): boolean | 'too few' {
    let z = a;
    let found = 0;
    while (z > 0 && found < want) {
      z = this.linesBack(z, 1);
      // Lines that look like a quiet logger entry's (D, I or A): counting warnings and errors too
      // came up short of `want` quiet records on most logs, and the lines were read twice.
      if (this.ring[z + 1] === 0x2c && this.ring[z + 3] === 0x5b && QUIET_FIRST[this.ring[z]!] === 1) found++;
    }
    z = z > 0 ? this.accessLineBefore(this.linesBack(z, 1)) : 0;
    const fromEntry = z === 0;
    const state = this.ringState!;
    // From a zoned access line the zone is learned there; from the ring's start it is the one known there.
    const zone = fromEntry ? this.ringZone : null;
    const assembler = new RecordAssembler({ timezone: this.options.timezone, maxMessageChars: this.options.maxLineBytes, zone });
    const { lines } = splitChunk(initialSplitState(this.ringOffset + z), this.ring.subarray(z, end), this.file, this.options.maxLineBytes);
    const records: LogRecord[] = [];
    for (const line of lines) for (const r of assembler.push(line)) records.push(r);
    for (const r of assembler.flush()) records.push(r);
    const aOffset = this.ringOffset + a;
    if (!fromEntry) {
      let quiet = 0;
      for (const r of records) if (r.line.offset < aOffset && r.kind === 'logger' && !TROUBLE.has(r.severity)) quiet++;
      if (quiet < MAX_HELD) return 'too few';
    }
    const seen: Seen = { newest: -Infinity, pid: fromEntry ? state.pid : null, clock: fromEntry ? state.clock : null };
    if (fromEntry) for (const h of state.held) seen.newest = Math.max(seen.newest, h.time);
    let i = 0;
    for (; i < records.length && records[i]!.line.offset < aOffset; i++) see(records[i]!, seen);
    if (seen.pid === null && !fromEntry) return false;
    if (Number.isNaN(seen.newest)) return false;
    if (!dropsHeld(records, i, seen.newest)) return false;
    // A later zoned access line the same holds for is as good a cut, and leaves fewer lines to read again.
    let cut = a;
    let cutPid = seen.pid;
    let cutClock = seen.clock;
    for (let k = i; k < records.length; k++) {
      const r = records[k]!;
      if (k > i && r.kind === 'access' && this.isZonedAccessLine(r.line) && dropsHeld(records, k, seen.newest)) {
        cut = r.line.offset - this.ringOffset;
        cutPid = seen.pid;
        cutClock = seen.clock;
      }
      see(r, seen);
    }
    const kept = countLines(this.ring, cut, this.ringLength);
    this.ringState = { ...state, held: [], heldChars: 0, pid: cutPid, clock: cutClock };
    // A reading started at A, a zoned access line, learns the zone there: nothing before it is needed.
    this.ringZone = null;
    this.cutLines += this.ringLines - kept;
    this.ringLines = kept;
    this.ring.copy(this.ring, 0, cut, this.ringLength);
    this.ringLength -= cut;
    this.ringOffset += cut;
    this.rewound = true;
    return true;
  }

  /** The ring's line at `start` as the splitter makes it. */
  private lineAt(start: number): Line {
    const end = this.ring.indexOf(LF, start) + 1;
    const { lines } = splitChunk(initialSplitState(this.ringOffset + start), this.ring.subarray(start, end), this.file, this.options.maxLineBytes);
    return lines[0]!;
  }

  private deliver(to: WatchEvent[], events: WatchEvent[]): void {
    if (events.length === 0) return;
    if (this.onEvents !== null) this.onEvents(events);
    else for (let i = 0; i < events.length; i++) to.push(events[i]!);
  }
}

/** What the records read up to a point say of the tracker there: its clock, its pid, the newest record it may hold. */
interface Seen {
  newest: number;
  pid: number | null;
  clock: number | null;
}

/** Takes what `r` says into `seen`. */
function see(r: LogRecord, seen: Seen): void {
  if (r.kind === 'unknown') return;
  if (r.time !== null) seen.clock = r.time;
  if (r.kind === 'logger' || r.kind === 'exception') seen.newest = Math.max(seen.newest, r.time);
  if (r.kind === 'logger') seen.pid = r.pid;
}

/**
 * True when a record from `records[from]` on is newer than the look-back window
 * of every record up to `newest` before any logger or exception record older
 * than `newest` comes: the tracker then drops all of those, whatever they were.
 */
function dropsHeld(records: readonly LogRecord[], from: number, newest: number): boolean {
  for (let i = from; i < records.length; i++) {
    const r = records[i]!;
    if (r.kind === 'unknown' || r.time === null) continue;
    if (newest < r.time - IDLE_HOLD_MS) return true;
    if ((r.kind === 'logger' || r.kind === 'exception') && r.time < newest) return false;
  }
  return false;
}

function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let p = buf.indexOf(LF, from); p !== -1 && p < to; p = buf.indexOf(LF, p + 1)) n++;
  return n;
}
