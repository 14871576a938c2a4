/**
 * What the lazy reader looks for while the tracker is idle: the fixed bytes of
 * the lines it may react to (start requests from the compiled rules, Rails
 * `Started … at …` lines) found with Buffer.indexOf over a whole chunk, and server
 * banners, which begin at a line's first byte with one of a few characters and
 * are then checked with the banner parser itself.
 */
import { parseBanner } from '../parse/server.js';
import { fixedOffsetConverter } from '../parse/timezone.js';
import type { TrackerRules } from '../track/rules.js';

const LF = 0x0a;
const CR = 0x0d;
const UTC = fixedOffsetConverter(0);

/** First bytes a server banner can start with (parse/server.ts: P, [, *, U, >, =). */
const BANNER_FIRST = new Uint8Array(256);
for (const c of 'P[*U>=') BANNER_FIRST[c.charCodeAt(0)] = 1;

/** The fixed bytes the idle tracker reacts to, from the compiled rules. */
export interface Needles {
  /** Every start request rule's `"METHOD PREFIX`. */
  starts: Buffer[];
  /** Every poll rule's `"METHOD PREFIX`; null when a poll rule has no fixed prefix. */
  polls: Buffer[] | null;
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
  if (starts === null) return null;
  return { starts, polls: bytes(rules.progressRequests) };
}

/** Scans chunks for the first line that matters, keeping each needle's next hit across calls on one chunk. */
export class NeedleScan {
  /** Needle hits in the buffer being scanned, cached across calls (-1: none left). */
  private hits: number[] = [];
  private hitsIn: Buffer | null = null;

  constructor(
    private readonly needles: Needles,
    private readonly maxLineBytes: number,
  ) {}

  /**
   * The start of the first line in [pos, end) the idle tracker may react to
   * (`end` when none), and how many lines come before it.
   */
  firstThatMatters(buf: Buffer, pos: number, end: number): { at: number; lines: number } {
    const needles = this.needles;
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
      if (hasAt(buf, h + STARTED.length, eol)) return h;
      from = eol + 1;
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

/** True when ` at ` occurs in buf[from, to): a loop over one line's bytes, which allocates nothing (a subarray per line would). */
function hasAt(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i + 3 < to; i++) {
    if (buf[i] === 0x20 && buf[i + 1] === 0x61 && buf[i + 2] === 0x74 && buf[i + 3] === 0x20) return true;
  }
  return false;
}
