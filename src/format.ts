/** Owns how times and durations are written for people and in events. */

// The last time written and its text: events come in runs from the same log second (an
// operation's polls), and a Date per call was a tenth of a dense replay. The memo is
// invisible to callers: the same number always gives the same text.
let lastMs = NaN;
let lastIso = '';

/** Epoch milliseconds as ISO 8601 UTC. */
export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

// The last request answer written, as iso() keeps the last time: nearly every event of a
// busy log is an order poll saying the same, and a string made anew for each was also
// flattened anew when the event was written (6 % of a dense replay's time).
const lastAnswer = { method: '', path: '', status: 0, text: '' };

/** `POST /v1/order answered 200`: what a request line's event says of it. */
export function answered(method: string, path: string, status: number): string {
  const a = lastAnswer;
  if (status !== a.status || path !== a.path || method !== a.method) {
    a.method = method;
    a.path = path;
    a.status = status;
    a.text = `${method} ${path} answered ${status}`;
  }
  return a.text;
}

/** `42s`, `3m05s`, `1h02m`: a duration as an operator reads it. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}
