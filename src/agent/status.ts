/**
 * What the agent says about itself: the shape of `/status` (and what `/healthz`
 * and `/metrics` read), assembled from the parts that own each answer.
 */
import type { Journal } from '../journal/journal.js';
import type { EventType, Operation } from '../model.js';
import type { PipelineCounters } from '../pipeline.js';
import type { FollowerCounters, FollowerStatus } from '../tail/follower.js';
import type { TrackerState } from '../track/tracker.js';

/** Why the agent is not ok, or null when it is: state not reaching the disk, or the log not being read. */
export function unhealthy(s: Pick<AgentStatus, 'persistence' | 'readError' | 'follower'>): string | null {
  if (!s.persistence.ok) return `state directory not writable: ${s.persistence.error}`;
  if (!s.follower.readable) return `log not readable: ${s.follower.error}`;
  if (s.readError !== null) return `log not readable: ${s.readError}`;
  return null;
}

export type AgentState = 'waiting-for-log' | 'log-unreadable' | 'idle' | `${'restore' | 'backup'}-${Operation['state']}`;

export interface PersistenceCounters {
  checkpoints: number;
  journalCompactions: number;
  /** Bytes of a torn last journal line cut off at start (a crash mid-write). */
  journalTornBytes: number;
  /** Journal lines found at start that were not events (damaged), skipped. */
  journalSkippedLines: number;
  /** Events lost with those lines (ids missing between the events around them): not made again. */
  journalLostEvents: number;
  /** Writes to the state directory that were refused. */
  writeFailures: number;
}

/** Whether state reaches the disk; when not, why and since when (ISO time). */
export interface PersistenceReport {
  ok: boolean;
  error: string | null;
  since: string | null;
}

export interface AgentStatus {
  /**
   * The active restore's or backup's state (e.g. `restore-running`), `idle`,
   * `waiting-for-log`, or `log-unreadable` (the path is a directory or may not be
   * read: `follower.error` says why; nothing can be followed until that changes).
   */
  state: AgentState;
  restore: Operation | null;
  backup: Operation | null;
  /** Which file, whether it exists, the offset and lines read, and whether the first read has finished. */
  follower: FollowerStatus & { linesRead: number; caughtUp: boolean };
  lastEventId: number;
  journal: { events: number; firstId: number | null; dropped: number };
  persistence: PersistenceReport;
  /** The last read of the log failed (and is retried); null when the last check went through. */
  readError: string | null;
  counters: {
    pipeline: PipelineCounters;
    follower: FollowerCounters;
    events: Record<EventType, number>;
    persistence: PersistenceCounters;
  };
}

/** The parts a status is assembled from. */
export interface StatusParts {
  tracker: TrackerState;
  follower: FollowerStatus;
  followerCounters: FollowerCounters;
  pipelineCounters: PipelineCounters;
  journal: Journal;
  caughtUp: boolean;
  eventCounts: Record<EventType, number>;
  persistence: PersistenceCounters;
  health: PersistenceReport;
  readError: string | null;
}

export function agentStatus(p: StatusParts): AgentStatus {
  const active = p.tracker.active?.op ?? null;
  const state: AgentState = !p.follower.readable
    ? 'log-unreadable'
    : active !== null
      ? `${active.kind}-${active.state}`
      : p.follower.exists
        ? 'idle'
        : 'waiting-for-log';
  return {
    state,
    restore: p.journal.latest('restore'),
    backup: p.journal.latest('backup'),
    follower: { ...p.follower, linesRead: p.pipelineCounters.lines, caughtUp: p.caughtUp },
    lastEventId: p.journal.lastId,
    journal: { events: p.journal.size, firstId: p.journal.firstId, dropped: p.journal.dropped },
    persistence: p.health,
    readError: p.readError,
    counters: {
      pipeline: p.pipelineCounters,
      follower: p.followerCounters,
      events: p.eventCounts,
      persistence: p.persistence,
    },
  };
}
