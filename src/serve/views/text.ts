/**
 * `GET /` for curl: one screen an operator reads at a glance. The latest restore,
 * its state, how long it has run, how long the log has been silent, its last
 * message and last few events; PostgreSQL readiness when a probe is configured.
 * Pure: everything, the clock included, comes in as arguments.
 */
import type { AgentStatus } from '../../agent.js';
import type { WatchEvent } from '../../model.js';
import type { ProbeStatus } from '../../probe/readiness.js';
import { shortTime } from '../../report/timeline.js';
import { formatDuration } from '../../format.js';

export interface TextViewInput {
  status: AgentStatus;
  /** The latest restore's events, oldest first. */
  events: readonly WatchEvent[];
  probe: ProbeStatus | null;
  now: number;
  version: string;
}

/** How many of the latest restore's events the view shows. */
export const EVENTS_SHOWN = 8;
const WIDTH = 100;

export function renderText({ status, events, probe, now, version }: TextViewInput): string {
  const out: string[] = [];
  out.push(`restore-watcher ${version}: ${status.state}, following ${status.follower.path}`);
  if (!status.follower.exists) out.push('the log file does not exist yet; waiting for it');
  out.push('');
  const op = status.restore;
  if (op === null) {
    out.push('no restore in the log yet');
  } else {
    const ago = (iso: string): string => `${formatDuration(Math.max(0, now - Date.parse(iso)))} ago`;
    const elapsed =
      op.durationMs !== null
        ? `took ${formatDuration(op.durationMs)}`
        : `${formatDuration(Math.max(0, now - Date.parse(op.requestedAt)))} so far`;
    out.push(field('restore', op.id));
    out.push(field('state', op.state));
    out.push(field('requested', `${shortTime(op.requestedAt)} by ${op.requestedBy}`));
    out.push(field('elapsed', elapsed));
    if (op.finishedAt !== null) out.push(field('finished', `${shortTime(op.finishedAt)} (${ago(op.finishedAt)})`));
    out.push(field('last activity', `${ago(op.lastActivityAt)} (${shortTime(op.lastActivityAt)})`));
    out.push(field('last message', oneLine(op.lastMessage ?? '-')));
    if (op.failure !== null) out.push(field('failure', oneLine(op.failure)));
  }
  if (probe !== null && probe.state !== 'off') out.push(field('postgresql', probeLine(probe, now)));
  if (events.length > 0) {
    out.push('', 'last events');
    for (const e of events.slice(-EVENTS_SHOWN)) {
      out.push(clip(`  ${shortTime(e.time)}  ${e.type.split('.')[1]!.padEnd(10)} ${oneLine(e.message)}`));
    }
  }
  return `${out.join('\n')}\n`;
}

function field(name: string, value: string): string {
  return clip(`${name.padEnd(14)}${value}`);
}

function oneLine(text: string): string {
  const [first, ...rest] = text.split('\n');
  return rest.length > 0 ? `${first} (+${rest.length} lines)` : (first ?? '');
}

function clip(line: string): string {
  return line.length > WIDTH ? `${line.slice(0, WIDTH - 1)}…` : line;
}

/** One line on the readiness probe, e.g. `ready: accepting connections (checked 3s ago)`. */
export function probeLine(probe: ProbeStatus, now: number): string {
  const words: Record<ProbeStatus['state'], string> = {
    off: 'no probe configured',
    pending: 'not checked yet',
    ready: 'ready',
    'not-ready': 'not ready',
    timeout: 'no answer (timeout)',
    'command-missing': 'cannot check: probe command missing',
    error: 'cannot check',
  };
  let line = words[probe.state];
  if (probe.output !== null) line += `: ${probe.output}`;
  if (probe.checkedAt !== null) line += ` (checked ${formatDuration(Math.max(0, now - Date.parse(probe.checkedAt)))} ago)`;
  return line;
}
