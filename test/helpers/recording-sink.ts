import type { FollowerNotice, FollowerSink, ReadFile } from '../../src/tail/follower.js';

/** A line as the recording sink cut it: its text, the file it was read from, its offset there. */
export interface RecordedLine {
  text: string;
  path: string;
  ino: number;
  offset: number;
}

/**
 * A follower sink that keeps what it was handed: lines cut at `\n` (a last line
 * without one is finished when the follower switches files, as the pipeline does),
 * notices, and every break in the offsets (data that does not start where the
 * previous data ended), which a correct follower never makes.
 */
export class RecordingSink implements FollowerSink {
  readonly lines: RecordedLine[] = [];
  readonly notices: FollowerNotice[] = [];
  readonly gaps: string[] = [];
  readonly switches: Array<{ path: string; offset: number }> = [];
  pauses = 0;
  ends = 0;
  private pending = '';
  private pendingFrom: { path: string; ino: number; offset: number } | null = null;
  private next = 0;

  data(chunk: Buffer, offset: number, from: ReadFile): void {
    if (offset !== this.next) this.gaps.push(`data at ${offset} of ${from.path}, expected ${this.next}`);
    this.next = offset + chunk.length;
    let text = chunk.toString('latin1');
    let at = offset;
    while (text.length > 0) {
      this.pendingFrom ??= { path: from.path, ino: from.identity.ino, offset: at };
      const nl = text.indexOf('\n');
      if (nl === -1) {
        this.pending += text;
        return;
      }
      this.lines.push({ text: this.pending + text.slice(0, nl), ...this.pendingFrom });
      this.pending = '';
      this.pendingFrom = null;
      at += nl + 1;
      text = text.slice(nl + 1);
    }
  }

  pause(): void {
    this.pauses++;
  }

  switchFile(from: ReadFile, offset: number): void {
    this.finishPending();
    this.switches.push({ path: from.path, offset });
    this.next = offset;
  }

  end(): void {
    this.ends++;
    this.finishPending();
  }

  notice(n: FollowerNotice): void {
    this.notices.push(n);
  }

  /** The texts of the lines, in order. */
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }

  /** The kinds of the notices, in order. */
  kinds(): string[] {
    return this.notices.map((n) => n.kind);
  }

  private finishPending(): void {
    if (this.pendingFrom !== null) this.lines.push({ text: this.pending, ...this.pendingFrom });
    this.pending = '';
    this.pendingFrom = null;
  }
}
