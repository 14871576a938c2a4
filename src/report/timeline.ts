/**
 * Renders events as a readable timeline, one block per restore or backup: state
 * changes and logger messages each get a line, order polls are counted and shown
 * as one line, failure messages are shown whole. Used by `replay`.
 */
import type { Operation, WatchEvent } from '../model.js';
import { formatDuration } from '../format.js';

export class TimelinePrinter {
  private current: string | null = null;
  private polls = 0;
  private lastPollAt = '';
  private readonly operations = new Map<string, Operation>();

  /** The text for one event (may be empty: a collapsed order poll). */
  event(e: WatchEvent): string {
    const op = e.operation;
    const previous = this.operations.get(op.id);
    this.operations.set(op.id, op);
    let out = '';
    if (this.current !== op.id) {
      out += this.flushPolls();
      this.current = op.id;
      out += `\n${op.kind} ${op.id}\n`;
    }
    const isPoll = e.type.endsWith('.progress') && previous !== undefined && op.orderPolls > previous.orderPolls;
    if (isPoll && previous.state === op.state) {
      this.polls++;
      this.lastPollAt = e.time;
      return out;
    }
    out += this.flushPolls();
    const label = e.type.endsWith('.progress') && !isPoll ? 'message' : op.state;
    out += row(e.time, op, label, e.message);
    return out;
  }

  /** Whatever is still collapsed, at the end of input. */
  finish(): string {
    return this.flushPolls();
  }

  /** The latest summary of every operation seen, in order of first appearance. */
  summaries(): Operation[] {
    return [...this.operations.values()];
  }

  private flushPolls(): string {
    if (this.polls === 0 || this.current === null) return '';
    const op = this.operations.get(this.current)!;
    const text = row(this.lastPollAt, op, '', `${this.polls} order poll${this.polls === 1 ? '' : 's'}`);
    this.polls = 0;
    return text;
  }
}

function row(time: string, op: Operation, label: string, message: string): string {
  const elapsed = `+${formatDuration(Date.parse(time) - Date.parse(op.requestedAt))}`;
  const [first, ...rest] = message.split('\n');
  const head = `  ${shortTime(time)}  ${elapsed.padEnd(8)} ${label.padEnd(10)} ${first}\n`;
  return head + rest.map((l) => `${' '.repeat(42)}${l}\n`).join('');
}

/** `2018-11-20 12:12:30Z`: ISO without the T and the milliseconds. */
export function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** One line per operation: id, outcome, when, how long, why it failed. */
export function summaryLine(op: Operation): string {
  const took =
    op.durationMs !== null
      ? `took ${formatDuration(op.durationMs)}`
      : `still ${op.state} at end of input, last activity ${shortTime(op.lastActivityAt)}`;
  const why = op.failure !== null ? `: ${op.failure.split('\n')[0]}` : '';
  return `  ${op.id.padEnd(28)} ${op.state.padEnd(10)} requested ${shortTime(op.requestedAt)}  ${took}${why}`;
}
