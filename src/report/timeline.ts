/**
 * Renders events as a readable timeline, one block per restore or backup: who
 * asked, state changes and logger messages each get a line, order polls are
 * counted (by the status they were answered with) and shown as one line, errors
 * and failure messages are shown whole, and the end says how long it took.
 * Elapsed times are counted in the whole seconds the clock column shows. Used by
 * `replay`.
 */
import type { Operation, WatchEvent } from '../model.js';
import { formatDuration } from '../format.js';

const INDENT = ' '.repeat(42);

export class TimelinePrinter {
  private current: string | null = null;
  /** Collapsed order polls of the current block, by status. */
  private polls = new Map<string, number>();
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
      out += `\n${op.kind} ${op.id}, requested by ${requester(op)}\n`;
    }
    const status = pollStatus(e, op, previous);
    if (status !== null && previous !== undefined && previous.state === op.state) {
      this.polls.set(status, (this.polls.get(status) ?? 0) + 1);
      this.lastPollAt = e.time;
      return out;
    }
    out += this.flushPolls();
    const isMessage = e.type.endsWith('.progress') && status === null;
    const label = e.type.endsWith('.error') ? 'error' : isMessage ? 'message' : op.state;
    const entered = op.phase !== null && op.phase !== (previous?.phase ?? null) ? `[${op.phase}] ` : '';
    out += row(e.time, op, label, entered + e.message);
    if (op.finishedAt !== null) out += ending(op);
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
    if (this.polls.size === 0 || this.current === null) return '';
    const op = this.operations.get(this.current)!;
    let total = 0;
    for (const n of this.polls.values()) total += n;
    const entries = [...this.polls.entries()].sort(([a], [b]) => a.localeCompare(b));
    const statuses = entries.length === 1 ? entries[0]![0] : entries.map(([s, n]) => `${s} ×${n}`).join(', ');
    const text = row(this.lastPollAt, op, '', `${total} order poll${total === 1 ? '' : 's'} answered ${statuses}`);
    this.polls.clear();
    return text;
  }
}

/** The status an order poll event was answered with, or null for another event. */
function pollStatus(e: WatchEvent, op: Operation, previous: Operation | undefined): string | null {
  if (previous === undefined) return null;
  if (e.type.endsWith('.progress') && op.orderPolls > previous.orderPolls) return '200';
  if (e.type.endsWith('.error')) {
    for (const [status, n] of Object.entries(op.failedPolls ?? {})) if (n > (previous.failedPolls?.[status] ?? 0)) return status;
  }
  return null;
}

/** `admin at 172.28.19.56`, or the host alone when no user was written. */
export function requester(op: Operation): string {
  if (op.requestSeen === false) return 'someone before this log began';
  return op.requestedByUser != null ? `${op.requestedByUser} at ${op.requestedBy}` : op.requestedBy;
}

function ending(op: Operation): string {
  const parts = [`took ${took(op)}`];
  if (op.namedBackupId != null) parts.push(`backup ${op.namedBackupId}`);
  if (op.warnings?.length) parts.push(`${op.warnings.length} warning${op.warnings.length === 1 ? '' : 's'}: ${op.warnings.join('; ')}`);
  return `${INDENT}${parts.join(', ')}\n`;
}

/** From `from` to `to` in the whole seconds the clock column shows, so that the two always agree. */
function shownElapsed(from: string, to: string): string {
  const seconds = Math.max(0, Math.floor(Date.parse(to) / 1000) - Math.floor(Date.parse(from) / 1000));
  return formatDuration(seconds * 1000);
}

function took(op: Operation): string {
  return op.finishedAt !== null ? shownElapsed(op.requestedAt, op.finishedAt) : formatDuration(op.durationMs ?? 0);
}

function row(time: string, op: Operation, label: string, message: string): string {
  const elapsed = `+${shownElapsed(op.requestedAt, time)}`;
  const [first, ...rest] = message.split('\n');
  const head = `  ${shortTime(time)}  ${elapsed.padEnd(8)} ${label.padEnd(10)} ${first}\n`;
  return head + rest.map((l) => `${INDENT}${l}\n`).join('');
}

/** `2018-11-20 12:12:30Z`: ISO without the T and the milliseconds. */
export function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** One line per operation: id, outcome, when, how long, why it failed. */
export function summaryLine(op: Operation): string {
  const duration =
    op.durationMs !== null
      ? `took ${took(op)}`
      : `still ${op.state} at end of input, last activity ${shortTime(op.lastActivityAt)}`;
  const backup = op.namedBackupId != null ? `, backup ${op.namedBackupId}` : '';
  const why = op.failure !== null ? `: ${op.failure.split('\n')[0]}` : '';
  return `  ${op.id.padEnd(28)} ${op.state.padEnd(10)} requested ${shortTime(op.requestedAt)} by ${requester(op)}  ${duration}${backup}${why}`;
}
