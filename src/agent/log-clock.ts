/**
 * The log's own clock, as the stall tick reads it: the time of the latest line
 * plus the wall-clock time since that line was read. A log whose writer's clock
 * (or zone) differs from ours, or a history from long ago read at start, is then
 * judged by its own pace, not by ours.
 */
export class LogClock {
  /** The log clock last noted, and the wall time when it was first seen. */
  private last: number | null = null;
  private seenAt = 0;

  constructor(private readonly now: () => number) {}

  /** Notes the tracker's clock (its latest line's time); remembers when it moved on. */
  note(clock: number | null): void {
    if (clock === this.last) return;
    this.last = clock;
    this.seenAt = this.now();
  }

  /** The log's time now, or null before any line with a time was read. */
  read(): number | null {
    return this.last === null ? null : this.last + (this.now() - this.seenAt);
  }
}
