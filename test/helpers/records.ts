import type { LogRecord, WatchEvent } from '../../src/model.js';
import { RecordAssembler } from '../../src/parse/records.js';
import { compileRules, type TrackerRules } from '../../src/track/rules.js';
import { initialTrackerState, trackEnd, trackRecord, type TrackerState } from '../../src/track/tracker.js';
import { linesOf } from './lines.js';

/** The records one assembler makes of `texts`, to the end of the input. */
export function recordsOf(texts: string[], timezone = 'UTC'): LogRecord[] {
  const a = new RecordAssembler({ timezone });
  const out: LogRecord[] = [];
  for (const line of linesOf(texts)) out.push(...a.push(line));
  out.push(...a.flush());
  return out;
}

/**
 * Tracks the records of `texts` from `state`; with `end`, to the end of the input
 * as `replay` does, where what waits for a verdict is settled.
 */
export function track(
  texts: string[],
  options: { state?: TrackerState; rules?: TrackerRules; end?: boolean } = {},
): { state: TrackerState; events: WatchEvent[] } {
  const rules = options.rules ?? compileRules();
  let state = options.state ?? initialTrackerState();
  const events: WatchEvent[] = [];
  for (const r of recordsOf(texts)) {
    const result = trackRecord(state, r, rules);
    state = result.state;
    events.push(...result.events);
  }
  if (options.end !== false) {
    const result = trackEnd(state, rules);
    state = result.state;
    events.push(...result.events);
  }
  return { state, events };
}
