/**
 * Where an event's body is, for the journal's index: a byte range of a segment
 * file, or, when the disk refused to take it, held in memory (`HeldBodies`) until
 * a retry writes it. Reading bodies back takes one read per run of adjacent lines.
 */
import type { WatchEvent } from '../model.js';
import type { BodyRange } from './event-index.js';
import { readRange, type Segment } from './segments.js';

/** Where an event's body is: a byte range of a segment (which the journal indexes compactly). */
export interface BodyRef extends BodyRange {
  segment: Segment;
}

/** An event body the disk did not take: held in memory, and written by a retry. */
export interface HeldBody {
  json: string;
  event: WatchEvent;
}

const isHeld = (ref: unknown): ref is HeldBody => typeof (ref as HeldBody).json === 'string';

/**
 * The serialised events behind `refs` (BodyRef or HeldBody): one read per run of
 * adjacent lines, through the descriptor `openFd` gives for a segment when it has
 * one (no descriptor to open when the process is out of them, and the bytes are
 * still there when the file was deleted), by path otherwise.
 */
export function readBodies(refs: readonly unknown[], openFd: (segment: Segment) => number | null = () => null): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < refs.length) {
    if (isHeld(refs[i])) {
      out.push((refs[i] as HeldBody).json);
      i++;
      continue;
    }
    const first = refs[i] as BodyRef;
    let end = first.position + first.length;
    let j = i + 1;
    for (; j < refs.length; j++) {
      if (isHeld(refs[j])) break;
      const r = refs[j] as BodyRef;
      if (r.segment !== first.segment || r.position !== end) break;
      end += r.length;
    }
    const bytes = readRange(openFd(first.segment) ?? first.segment.path, first.position, end - first.position);
    let at = 0;
    for (let k = i; k < j; k++) {
      const length = (refs[k] as BodyRef).length;
      out.push(bytes.toString('utf8', at, at + length - 1));
      at += length;
    }
    i = j;
  }
  return out;
}

/**
 * Owns what a refused write leaves behind: why the disk refused, and the bodies
 * not written because of it, in id order. They are served from memory (each is
 * its own reference) until `retry` writes them, once.
 */
export class HeldBodies {
  /** The write the disk refused, until a retry succeeds. */
  failure: NodeJS.ErrnoException | null = null;
  private held: HeldBody[] = [];

  /** Bodies `from` on, held in memory until a retry writes them; returns their references. */
  hold(json: readonly string[], events: readonly WatchEvent[], from: number): HeldBody[] {
    const held: HeldBody[] = [];
    for (let i = from; i < json.length; i++) held.push({ json: json[i]!, event: events[i]! });
    this.held.push(...held);
    return held;
  }

  /**
   * After a refused write: has `write` write what was held, in order. Throws while
   * the disk still refuses (what was held stays held). A no-op when nothing failed.
   */
  retry(write: (json: readonly string[], events: readonly WatchEvent[]) => void): void {
    if (this.failure === null) return;
    try {
      write(
        this.held.map((h) => h.json),
        this.held.map((h) => h.event),
      );
      // Served from memory until the journal drops them; on disk from now on for the next load.
      this.held = [];
    } catch (err) {
      this.failure = err as NodeJS.ErrnoException;
      throw err;
    }
    this.failure = null;
  }

  /** Forgets everything (a load starts again from the files). */
  clear(): void {
    this.failure = null;
    this.held = [];
  }
}
