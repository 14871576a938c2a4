/**
 * Owns a restore's phases as time spans and the estimate of how long it still
 * has to go. Pure: events, earlier restores and `now` are arguments.
 *
 * The estimate is the median of earlier successful restores, never a guess: with
 * no earlier successful restore there is no estimate. When the current phase is
 * known and earlier restores went through it, it is the median time those took
 * from the start of that phase to their end, less the time spent in it so far;
 * otherwise the median whole duration less the time since the request. A restore
 * already past the median is said to be so, not given a negative time.
 */
import { formatDuration } from '../format.js';
import type { Operation, WatchEvent } from '../model.js';

/** One phase of a restore: when it began and how long it lasted (so far, for the current one). */
export interface PhaseSpan {
  phase: string;
  startedAt: string;
  ms: number;
  current: boolean;
}

/** Which named phase an event put its operation in, or null when it names none. */
export type PhaseOf = (e: WatchEvent) => string | null;

/** The phase the tracker recorded on the event's operation (`track.rules.phases`). */
export const recordedPhase: PhaseOf = (e) => e.operation.phase ?? null;

/** Where a phase began: what the spans are computed from. */
export interface PhaseStart {
  phase: string;
  ms: number;
}

/** The phase changes in `events` (one operation's, oldest first), appended to `starts`. */
export function notePhaseStarts(starts: PhaseStart[], events: readonly WatchEvent[], phaseOf: PhaseOf): PhaseStart[] {
  for (const e of events) {
    const phase = phaseOf(e);
    if (phase === null || starts.at(-1)?.phase === phase) continue;
    starts.push({ phase, ms: Date.parse(e.time) });
  }
  return starts;
}

/** The phases an operation went through, each until the next began or the operation ended (or `now`, while active). */
export function phaseSpans(op: Operation, starts: readonly PhaseStart[], now: number): PhaseSpan[] {
  const endMs = op.finishedAt !== null ? Date.parse(op.finishedAt) : now;
  return starts.map((s, i) => {
    const next = starts[i + 1];
    return {
      phase: s.phase,
      startedAt: new Date(s.ms).toISOString(),
      ms: Math.max(0, (next?.ms ?? endMs) - s.ms),
      current: next === undefined && op.finishedAt === null,
    };
  });
}

/** An earlier restore as the estimate needs it. */
export interface PastRestore {
  op: Operation;
  phases: PhaseSpan[];
}

export interface Estimate {
  /** Milliseconds left by the median; 0 when already past it. */
  remainingMs: number;
  /** True when the restore has already taken longer than the median says it should. */
  overdue: boolean;
  /** `phase`: from the current phase's start in earlier restores; `whole`: from whole durations. */
  basis: 'phase' | 'whole';
  /** The current phase the estimate starts from (basis `phase`). */
  phase: string | null;
  /** How many earlier successful restores it is the median of. */
  from: number;
  /** The median those restores took (from the phase's start, or whole). */
  medianMs: number;
  /** E.g. `~4m left, from 3 earlier restores`. */
  text: string;
}

/**
 * The estimate for `current` (active) from `past` (any restores; only successful
 * ones requested before `current` count), or null when there is no basis.
 */
export function estimateRemaining(current: Operation, currentPhases: readonly PhaseSpan[], past: readonly PastRestore[], now: number): Estimate | null {
  if (current.finishedAt !== null) return null;
  const requestedMs = Date.parse(current.requestedAt);
  const earlier = past.filter(
    (r) => r.op.id !== current.id && r.op.state === 'succeeded' && r.op.durationMs !== null && Date.parse(r.op.requestedAt) < requestedMs,
  );
  if (earlier.length === 0) return null;
  const phase = currentPhases.at(-1);
  if (phase !== undefined && phase.current) {
    const fromPhase: number[] = [];
    for (const r of earlier) {
      const same = r.phases.find((p) => p.phase === phase.phase);
      if (same !== undefined && r.op.finishedAt !== null) fromPhase.push(Date.parse(r.op.finishedAt) - Date.parse(same.startedAt));
    }
    if (fromPhase.length > 0) return estimate('phase', phase.phase, fromPhase, phase.ms);
  }
  return estimate('whole', null, earlier.map((r) => r.op.durationMs!), Math.max(0, now - requestedMs));
}

function estimate(basis: Estimate['basis'], phase: string | null, durations: number[], spentMs: number): Estimate {
  const medianMs = median(durations);
  const remainingMs = Math.max(0, medianMs - spentMs);
  const overdue = spentMs > medianMs;
  const restores = `${durations.length} earlier restore${durations.length === 1 ? '' : 's'}`;
  const scope = phase !== null ? ` with a ${phase} phase` : '';
  const text = overdue
    ? `longer than usual: the median of ${restores}${scope} is ${formatDuration(medianMs)}${phase !== null ? ` from ${phase}` : ''}`
    : `~${roughly(remainingMs)} left, from ${restores}${scope}`;
  return { remainingMs, overdue, basis, phase, from: durations.length, medianMs, text };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A remaining time without false precision: seconds under two minutes, whole minutes above. */
function roughly(ms: number): string {
  if (ms < 120_000) return formatDuration(Math.ceil(ms / 10_000) * 10_000);
  return `${Math.round(ms / 60_000)} min`;
}
