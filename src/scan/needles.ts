/**
 * What the lazy reader looks for while the tracker is idle: the fixed bytes of
 * the lines it may react to (start requests from the compiled rules, Rails
 * `Started … at …` lines), each found over a whole chunk by a probe of a few of its
 * rarer bytes; server banners, which begin at a line's first byte with one of a
 * few characters and are then checked with the banner parser itself; and before
 * the first operation, the words a message that would begin one contains and
 * Sinatra's exception reports.
 *
 * Where WebAssembly has SIMD (every Node this runs on, on x86-64 and arm64), the
 * needles, the line starts and the line count are found in one pass over a chunk
 * by simd-scan.ts; the probes below are what is left without it, and the answer
 * of the two is the same (test/unit/needles.test.ts compares them).
 */
import { parseBanner } from '../parse/server.js';
import { fixedOffsetConverter } from '../parse/timezone.js';
import { escapeRegex, type TrackerRules } from '../track/rules.js';
import { requiredWords } from './required-words.js';
import { BANNER, choosePair, DIGIT, LINE_START, SimdScan } from './simd-scan.js';

const LF = 0x0a;
const CR = 0x0d;
const UTC = fixedOffsetConverter(0);

/** What a line's first byte may start: a server banner (parse/server.ts: P, [, *, U, >, =), Sinatra's exception report (a digit). */
const LINE_FIRST = new Uint8Array(256);
for (const c of 'P[*U>=') LINE_FIRST[c.charCodeAt(0)] = BANNER;
for (const c of '0123456789') LINE_FIRST[c.charCodeAt(0)] = DIGIT;

/** The fixed bytes the idle tracker reacts to, from the compiled rules. */
export interface Needles {
  /** Every start request rule's `"METHOD PREFIX`. */
  starts: Buffer[];
  /** Every poll rule's `"METHOD PREFIX`; null when a poll rule has no fixed prefix. */
  polls: Buffer[] | null;
  /**
   * Before any operation was seen, a message a phase rule with a kind matches begins
   * one (the log began during it): words one of which every such message contains
   * (ASCII, either case; none when no phase has a kind), or null when a phase rule
   * gives none (then every line before the first operation is parsed).
   */
  unrequested: string[] | null;
}

const STARTED = Buffer.from('Started ');

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
  // A needle is searched for within a line.
  if (starts === null || starts.some((n) => n.includes(LF))) return null;
  let unrequested: string[] | null = [];
  for (const p of rules.phases) {
    if (p.kind === null) continue;
    const words = requiredWords(p.regex);
    unrequested = unrequested === null || words === null ? null : [...unrequested, ...words];
  }
  return { starts, polls: bytes(rules.progressRequests), unrequested };
}

/**
 * How a needle is searched for: Buffer.indexOf finds its first byte with memchr and
 * then compares, so a needle whose first byte is on every line (`"` of every request,
 * `S` and `t` of every message) costs a comparison per occurrence. It is searched by
 * a probe instead: a few of its bytes from its rarest byte on (by how often each byte
 * occurs in the log's first bytes), and each hit of the probe is checked against the
 * whole needle. Probes stay below 7 bytes: Node switches longer patterns to
 * Boyer-Moore-Horspool, which was slower here than memchr over a rare byte.
 */
interface Probe {
  needle: Buffer;
  /** Where the probe starts in the needle. */
  at: number;
  probe: Buffer;
}

const PROBE_BYTES = 6;
/** How much text a search for phase words decodes at a time. */
const WORD_WINDOW = 16 * 1024;
/** How much of the first chunk the probes are chosen on. */
const SAMPLE_BYTES = 16 * 1024;
/**
 * What a probe's hit costs against an occurrence of its first byte that memchr
 * passes over: a return to JavaScript, the comparison and the next indexOf call
 * (measured over a production.log: the probe `OST /v`, in each of 550,000 order
 * polls, took half as long again as the whole `"POST /v1/restore`, whose `"` is
 * on every access line twice).
 */
const HIT_COST = 12;

/**
 * The probe for `needle` that costs least over `sample`: each of the needle's
 * windows of up to PROBE_BYTES, by how often its first byte occurs (`count`)
 * and how often the window itself does.
 */
function probeFor(needle: Buffer, sample: Buffer, count: Uint32Array): Probe {
  let best: Probe | null = null;
  let bestCost = Infinity;
  for (let at = 0; at < needle.length; at++) {
    const probe = needle.subarray(at, at + PROBE_BYTES);
    let cost = count[probe[0]!]!;
    for (let h = sample.indexOf(probe); h !== -1 && cost < bestCost; h = sample.indexOf(probe, h + 1)) cost += HIT_COST;
    if (cost < bestCost) {
      best = { needle, at, probe };
      bestCost = cost;
    }
  }
  return best!;
}

/** The start of the first `p.needle` in buf[pos, end), or -1. */
function findNeedle(buf: Buffer, p: Probe, pos: number, end: number): number {
  const { needle, at, probe } = p;
  for (let h = buf.indexOf(probe, pos + at); h !== -1; h = buf.indexOf(probe, h + 1)) {
    const start = h - at;
    if (start + needle.length > end) return -1;
    let i = 0;
    while (i < needle.length && buf[start + i] === needle[i]) i++;
    if (i === needle.length) return start;
  }
  return -1;
}

/**
 * Scans chunks for the first line that matters, keeping each needle's next hit (or
 * the chunk's copy for the one-pass scan) across calls on one chunk: a chunk is one
 * Buffer object, whose bytes from the scanned position on stay as they were.
 */
export class NeedleScan {
  /** Needle hits in the buffer being scanned, cached across calls (-1: none left). */
  private hits: number[] = [];
  private hitsIn: Buffer | null = null;
  /** The start needles, then `Started `; chosen on the first chunk. */
  private probes: Probe[] | null = null;
  /** The one-pass scan (simd-scan.ts), made in place of the probes on the first full sample; null where WebAssembly SIMD is missing or not wanted. */
  private simd: SimdScan | null = null;
  /** `unrequested` as one expression, and the length of its longest word. */
  private readonly words: RegExp | null;
  private readonly longestWord: number;

  /** `useSimd`: false scans with Buffer.indexOf alone (the two are compared in tests). */
  constructor(
    private readonly needles: Needles,
    private readonly maxLineBytes: number,
    private readonly useSimd = true,
  ) {
    const words = needles.unrequested;
    this.words = words === null || words.length === 0 ? null : new RegExp(words.map(escapeRegex).join('|'), 'i');
    this.longestWord = Math.max(0, ...(words ?? []).map((w) => w.length));
  }

  /** True once the one-pass scan is made and used (from the first full sample on). */
  get scansInOnePass(): boolean {
    return this.simd !== null;
  }

  /** True when lines may be skipped before the first operation (see `firstThatMatters`). */
  get skipsBeforeFirstOperation(): boolean {
    return this.needles.unrequested !== null;
  }

  /**
   * The start of the first line in [pos, end) the idle tracker may react to
   * (`end` when none), and how many lines come before it. `beforeFirstOperation`:
   * the tracker has seen no operation yet, so a line that may be part of a message
   * a phase rule with a kind matches matters too: one with one of `unrequested`'s
   * words, or the first line of a Sinatra exception report (its message is made
   * from the line, not a part of it).
   */
  firstThatMatters(buf: Buffer, pos: number, end: number, beforeFirstOperation = false): { at: number; lines: number } {
    const probes = this.probes ?? this.chooseProbes(buf, pos, end);
    if (this.simd !== null) return this.firstBySimd(this.simd, buf, pos, end, beforeFirstOperation);
    this.hitsFor(buf);
    let first = end;
    const k = probes.length - 1;
    for (let i = 0; i <= k; i++) {
      let h = this.hits[i]!;
      if (h === -2 || (h !== -1 && h < pos)) {
        h = this.hits[i] = i < k ? findNeedle(buf, probes[i]!, pos, end) : this.nextRailsStarted(buf, probes[i]!, pos, end);
      }
      if (h !== -1 && h < first) first = h;
    }
    const mask = beforeFirstOperation ? BANNER | DIGIT : BANNER;
    if (beforeFirstOperation && this.words !== null) {
      const h = this.wordHit(buf, pos, end);
      if (h !== -1 && h < first) first = h;
    }
    const limit = first >= end ? end : buf.lastIndexOf(LF, first) + 1;
    // Banners and exception reports start at a line's first byte: every line start up to the first hit is looked at.
    let lines = 0;
    let p = pos;
    while (p < limit) {
      if (this.lineStartMatters(buf, p, mask)) return { at: p, lines };
      p = buf.indexOf(LF, p) + 1;
      lines++;
    }
    return { at: limit, lines };
  }

  /**
   * The hits kept for `buf` (a slot per start needle, one for `Started `, one for the words,
   * -2 for none searched yet), made anew for another buffer.
   */
  private hitsFor(buf: Buffer): number[] {
    if (this.hitsIn !== buf) {
      this.hitsIn = buf;
      this.hits = new Array<number>(this.needles.starts.length + 2).fill(-2);
    }
    return this.hits;
  }

  /** The next of `unrequested`'s words in buf[pos, end) or -1, kept until `pos` passes it. */
  private wordHit(buf: Buffer, pos: number, end: number): number {
    const hits = this.hitsFor(buf);
    const k = this.needles.starts.length + 1;
    let h = hits[k]!;
    if (h === -2 || (h !== -1 && h < pos)) h = hits[k] = this.nextWord(buf, pos, end);
    return h;
  }

  /** The next of `unrequested`'s words in buf[pos, end), or -1. */
  private nextWord(buf: Buffer, pos: number, end: number): number {
    // Searched in latin1 text (a character a byte) of a window at a time, overlapping by a word:
    // a chunk's text at once is a large object, which the collector promotes and then marks.
    for (let from = pos; from < end; from += WORD_WINDOW) {
      const m = this.words!.exec(buf.toString('latin1', from, Math.min(end, from + WORD_WINDOW + this.longestWord - 1)));
      if (m !== null) return from + m.index;
    }
    return -1;
  }

  /**
   * What the needles are searched with, chosen on the first chunk: the one-pass scan, or
   * where it cannot be made the probes (then none: the one-pass scan takes no probes).
   */
  private chooseProbes(buf: Buffer, pos: number, end: number): Probe[] {
    const sample = buf.subarray(pos, Math.min(end, pos + SAMPLE_BYTES));
    const count = new Uint32Array(256);
    for (let i = 0; i < sample.length; i++) count[sample[i]!]!++;
    const needles = [...this.needles.starts, STARTED];
    // A short first chunk (a live log read as it is written) says little: chosen again on the next.
    const full = sample.length === SAMPLE_BYTES;
    if (full && this.useSimd) this.simd = SimdScan.create(needles.map((n) => choosePair(n, sample, count)), LINE_FIRST);
    const probes = this.simd !== null ? [] : needles.map((n) => probeFor(n, sample, count));
    if (full) this.probes = probes;
    return probes;
  }

  /** firstThatMatters by the one-pass scan: the same answer, from the scan's stops. */
  private firstBySimd(simd: SimdScan, buf: Buffer, pos: number, end: number, beforeFirstOperation: boolean): { at: number; lines: number } {
    let to = end;
    if (beforeFirstOperation && this.words !== null) {
      const h = this.wordHit(buf, pos, end);
      // A needle or line start on the word's line or after it stops no earlier than the line's start.
      if (h !== -1) to = buf.lastIndexOf(LF, h) + 1;
    }
    if (pos >= to) return { at: to, lines: 0 };
    const mask = beforeFirstOperation ? BANNER | DIGIT : BANNER;
    if (this.lineStartMatters(buf, pos, mask)) return { at: pos, lines: 0 };
    let lines = 0;
    let from = pos;
    for (;;) {
      const stop = simd.scan(buf, from, to, mask);
      lines += stop.lines;
      if (stop.at >= to) return { at: to, lines };
      if (stop.which === LINE_START) {
        if (this.lineStartMatters(buf, stop.at, mask)) return { at: stop.at, lines };
        // Resumed at the line's start: the newline before it, already counted, is not seen again.
        from = stop.at;
        continue;
      }
      // `Started ` matters only on a line the Rails request expression may take, as in nextRailsStarted.
      if (stop.which === this.needles.starts.length && !mayBeRailsStarted(buf, stop.at + STARTED.length, buf.indexOf(LF, stop.at))) {
        from = stop.at + 1;
        continue;
      }
      return { at: buf.lastIndexOf(LF, stop.at) + 1, lines };
    }
  }

  /** Whether the line at `p` is a banner, or with DIGIT in `mask` an exception report's first line. */
  private lineStartMatters(buf: Buffer, p: number, mask: number): boolean {
    const kind = LINE_FIRST[buf[p]!]! & mask;
    return kind !== 0 && (kind === BANNER ? this.isBanner(buf, p) : buf[p + 4] === 0x2d);
  }

  /**
   * The next `Started ` line the Rails request expression may take (tracker's
   * RAILS_STARTED: `Started M "path" for host at …`), or -1: one with ` at ` later
   * on its line, or whose quoted path is not closed on it (a message may go on
   * on the next lines). Each `Started ` of a line is looked at: the message may
   * begin at a later one (a program name or tags before it).
   */
  private nextRailsStarted(buf: Buffer, probe: Probe, pos: number, end: number): number {
    let from = pos;
    while (from < end) {
      const h = findNeedle(buf, probe, from, end);
      if (h === -1) return -1;
      const eol = buf.indexOf(LF, h);
      if (mayBeRailsStarted(buf, h + STARTED.length, eol)) return h;
      from = h + 1;
    }
    return -1;
  }

  private isBanner(buf: Buffer, start: number): boolean {
    let stop = buf.indexOf(LF, start);
    if (stop > start && buf[stop - 1] === CR) stop--;
    // A cut line is never a banner (the assembler reads only its head, as a logger line or nothing).
    if (stop - start > this.maxLineBytes) return false;
    return parseBanner(buf.toString('utf8', start, stop), UTC) !== null;
  }
}

/**
 * False only when buf[from, to), the rest of a `Started ` line, closes its quoted
 * path and has no ` at `: a loop over one line's bytes, which allocates nothing
 * (a subarray per line would).
 */
function mayBeRailsStarted(buf: Buffer, from: number, to: number): boolean {
  let quotes = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c === 0x22) quotes++;
    else if (c === 0x20 && buf[i + 1] === 0x61 && buf[i + 2] === 0x74 && buf[i + 3] === 0x20 && i + 3 < to) return true;
  }
  return quotes < 2;
}

