/** Owns how times and durations are written for people and in events. */

/** Epoch milliseconds as ISO 8601 UTC. */
export function iso(ms: number): string {
  // Events of one log second come in runs (every poll of a busy restore names its time twice):
  // the last answer is kept, which spares a Date and a string per call.
  if (ms !== lastIso.ms) {
    lastIso.ms = ms;
    lastIso.text = new Date(ms).toISOString();
  }
  return lastIso.text;
}

/** The last time `iso` wrote: a cache of one pure answer, whoever calls. */
const lastIso = { ms: Number.NaN, text: '' };

/** `42s`, `3m05s`, `1h02m`: a duration as an operator reads it. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}
