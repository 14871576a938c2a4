/**
 * What a follower takes and hands on: its options and resume point, the sink that
 * receives its bytes and its notices of what happened to the file, its counters
 * and its status.
 */
import type { FileIdentity, SourceFile } from '../model.js';
import type { Waker } from './waker.js';

/** Where to resume: a checkpointed position. `head` and `tail` absent: trust the inode alone. */
export interface ResumePoint {
  identity: FileIdentity;
  offset: number;
  head?: Buffer;
  tail?: Buffer;
}

export interface FollowerOptions {
  path: string;
  pollIntervalMs: number;
  rotationGraceMs: number;
  /** Resume here (see ResumePoint); otherwise the file is read from 0. */
  resume?: ResumePoint | null;
  /** Rotated copies looked at: `<log>.1` … `<log>.N` (logrotate's `rotate N`). */
  maxRotatedCopies?: number;
  /**
   * Bytes handed to the sink at a time (default 64 KiB). What one slice holds is split,
   * parsed, journaled and broadcast before the next, a turn of the event loop later:
   * a smaller slice keeps less alive at once, so fewer of its short-lived objects
   * outlast the young generation under the job's small semi-space, and the heap's
   * peaks stay lower.
   */
  readSize?: number;
  /**
   * Bytes read from the file at a time (default 1 MiB; at least `readSize`), handed on
   * in slices of `readSize`. A read goes through the thread pool: on a long first read,
   * a read per 64 KiB cost more time in those round trips than the slices took to parse.
   * The follower keeps two buffers of this size: the next read is made into one while
   * the other is handed on.
   */
  readAheadSize?: number;
  /**
   * Bytes of the current file read in one go before the check pauses between two
   * of its passes (default 16 MiB): a long first read then lets the sink take
   * checkpoints along the way (`idle` is called, and `busy` is false, meanwhile).
   */
  maxBytesPerStep?: number;
  /** Set false in tests that drive `check()` themselves: no waker. */
  watch?: boolean;
  /** What wakes the follower; by default fs.watch plus a poll every `pollIntervalMs`. */
  waker?: Waker;
  /** The clock for the rotation grace period (injected for tests). */
  now?: () => number;
}

export interface FollowerStatus {
  path: string;
  exists: boolean;
  /** False while the path is there but cannot be read (a directory, no permission); `error` says why. */
  readable: boolean;
  error: string | null;
  offset: number;
  identity: FileIdentity | null;
}


/** A file read: the path as read and the file behind it. */
export interface ReadFile extends SourceFile {
  identity: FileIdentity;
}

export type FollowerNotice =
  | { kind: 'waiting'; path: string }
  | { kind: 'unreadable'; path: string; reason: string }
  | { kind: 'opened'; path: string; identity: FileIdentity; offset: number }
  | { kind: 'rotated'; path: string; from: FileIdentity; to: FileIdentity; between: number }
  | { kind: 'truncated'; path: string; at: number; size: number; recoveredFrom: string | null; bytesRecovered: number }
  | { kind: 'missing'; path: string }
  | { kind: 'copy-read'; path: string; from: string; offset: number; bytes: number }
  | { kind: 'resumed'; path: string; offset: number; from: string }
  | { kind: 'resume-lost'; path: string; offset: number }
  | { kind: 'error'; path: string; message: string };

export interface FollowerSink {
  /**
   * The next bytes of the current content, starting at `offset`, read from `from`:
   * the file switched to, or a rotated copy holding the rest of its content.
   */
  data(chunk: Buffer, offset: number, from: ReadFile): void;
  /** Reading reached the end of what is written so far. */
  pause(): void;
  /** The current content is done (rotated away or truncated); the next data starts `from`'s content at `offset`. */
  switchFile(from: ReadFile, offset: number): void;
  /** The current file was rotated away and read to its end, and no other file is there yet. */
  end?(): void;
  /** A check finished: positions are settled until the next one. */
  idle?(): void;
  notice(n: FollowerNotice): void;
}

export interface FollowerCounters {
  /** Bytes read from the followed files themselves. */
  bytesRead: number;
  /** Rename rotations seen (each file rotated away counts once). */
  rotations: number;
  /** In-place truncations seen (copytruncate, `: > file`), refilled or not. */
  truncations: number;
  /** Times the file was deleted (or renamed away with nothing in its place). */
  missing: number;
  /** Files opened after a rotation, a deletion or a wait. */
  reopens: number;
  /** Rotated copies read from (the rest after a truncation or restart, or whole). */
  copiesRead: number;
  /** Bytes read from rotated copies: what would have been lost without them. */
  bytesRecovered: number;
  /** Restarts resumed from a checkpoint. */
  resumes: number;
  /** Restarts whose checkpointed file was found nowhere: read again from the file at the path. */
  resumesLost: number;
  /** Checks that found the log path there but not readable (a directory, no permission). */
  unreadable: number;
  errors: number;
}

export function noCounts(): FollowerCounters {
  return {
    bytesRead: 0,
    rotations: 0,
    truncations: 0,
    missing: 0,
    reopens: 0,
    copiesRead: 0,
    bytesRecovered: 0,
    resumes: 0,
    resumesLost: 0,
    unreadable: 0,
    errors: 0,
  };
}
