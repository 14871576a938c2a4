/**
 * Owns when and in what order the agent's state reaches the disk, and what
 * happens when the disk says no.
 *
 * Order: events are appended to the journal file as they are made; a checkpoint
 * is written when something changed (on a timer), at the end of a check that read
 * the first bytes of a new file or a rotated copy, and at once for events a tick
 * made. Before every checkpoint the journal is fsynced, so the checkpoint never
 * covers events that are not durable too.
 *
 * Faults: a write the state directory refuses (read-only, full, gone, out of file
 * descriptors) never stops the agent. It goes on following and serving from
 * memory, reports the failure once (`health()`, one log line per change of
 * reason), and stops writing: the journal store holds what it could not write
 * in memory, and no checkpoint is written. Each later checkpoint attempt, spaced
 * by a doubling backoff, first has the store write what it held (see
 * JournalStore.retry), then writes the checkpoint; when both succeed what was
 * pending is on disk exactly once and the report clears. A
 * crash meanwhile leaves the last good checkpoint and a journal that covers it:
 * the restart re-reads the log from there, as after any crash.
 */
import type { Logger } from 'pino';
import type { Checkpoint, CheckpointLoad } from '../journal/checkpoint.js';
import type { Journal } from '../journal/journal.js';
import type { LoadedJournal } from '../journal/store.js';
import type { WatchEvent } from '../model.js';
import type { ResumePoint } from '../tail/follower.js';
import type { ZoneState } from '../parse/records.js';
import { initialTrackerState, type TrackerState } from '../track/tracker.js';
import type { PersistenceCounters, PersistenceReport } from './status.js';

/** The journal's files, as persistence uses them (JournalStore). The journal writes events through them itself. */
export interface JournalFile {
  readonly file: string;
  loadInto(journal: Journal): Omit<LoadedJournal, 'events'>;
  /** Why writes are refused, while they are; what could not be written is held in memory. */
  readonly writeError: NodeJS.ErrnoException | null;
  /** Writes what was held (starting the journal again in a re-created directory); throws while the disk still refuses. Returns the events whose files were deleted. */
  retry(journal: Journal): number;
  sync(): void;
  maybeCompact(journal: Journal): boolean;
}

/** The checkpoint file, as persistence uses it (Checkpointer). */
export interface CheckpointFile {
  readonly file: string;
  load(): CheckpointLoad;
  write(checkpoint: Checkpoint): void;
}

/** Where the follower is, as far as checkpoints care. */
export interface FollowerMarks {
  /** Bytes of the current content's head read so far. */
  headLength: number;
  /** Which content is being read (FileFollower.content). */
  content: number;
  /** Rotated copies read so far. */
  copiesRead: number;
}


/** What loading found: where to resume and with what tracker state. */
export interface LoadedState {
  tracker: TrackerState;
  /** The parser's zone state at `resume` (null: none learned). */
  zone: ZoneState | null;
  resume: ResumePoint | null;
  knownCopies: Buffer[];
  /** Events a tick made that only the checkpoint holds. */
  tickEvents: WatchEvent[];
  /** No usable checkpoint: one is written before the first event. */
  fresh: boolean;
}

export interface PersistenceOptions {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  now: () => number;
  /** First wait before retrying a refused write; doubles up to `retryMaxMs`. */
  retryMs?: number;
  retryMaxMs?: number;
  /** Before each write after a failure and each checkpoint: throws while the state directory may not be written (its lock is being taken again). */
  beforeWrite?: () => void;
}

export class Persistence {
  readonly counters: PersistenceCounters = {
    checkpoints: 0,
    journalCompactions: 0,
    journalTornBytes: 0,
    journalSkippedLines: 0,
    journalLostEvents: 0,
    writeFailures: 0,
  };
  /** Something changed since the last checkpoint. */
  private changed = false;
  /** A checkpoint was asked for when none could be written; it is written when the check ends. */
  private due = false;
  /** The follower's content the last checkpoint knew by some of its bytes (-1: none). */
  private content = -1;
  /** The follower's count of rotated copies read, as of the last checkpoint. */
  private copies = 0;
  /** The refused write, while the disk refuses; with when it began and when to try again. */
  private failure: { error: string; since: number; retryAt: number; waitMs: number } | null = null;

  constructor(
    private readonly journalFile: JournalFile,
    private readonly checkpointFile: CheckpointFile,
    private readonly options: PersistenceOptions,
  ) {}

  get dirty(): boolean {
    return this.changed;
  }

  /** Whether a checkpoint attempt is wanted on the timer: something changed, or a failure waits for its retry. */
  get wanted(): boolean {
    return this.changed || this.failure !== null;
  }

  health(): PersistenceReport {
    const f = this.failure;
    return f === null ? { ok: true, error: null, since: null } : { ok: false, error: f.error, since: new Date(f.since).toISOString() };
  }

  /**
   * Loads the journal into `journal` and reads the checkpoint. A checkpoint that is
   * missing or unusable comes back `fresh`, with the tracker from scratch: the agent
   * rebuilds it from the journal (see rebuildPoint in reconcile.ts), so that what the
   * journal already holds is not reported again.
   */
  load(journal: Journal, path: string): LoadedState {
    const { logger } = this.options;
    const loaded = this.journalFile.loadInto(journal);
    const file = this.journalFile.file;
    if (loaded.unusable !== null) logger.warn({ file, reason: loaded.unusable }, 'journal file not readable; set aside, starting a new one');
    if (loaded.tornBytes > 0) {
      this.counters.journalTornBytes = loaded.tornBytes;
      logger.warn({ file, bytes: loaded.tornBytes }, 'journal ended in a torn line (a crash mid-write); cut off');
    }
    if (loaded.skippedLines > 0) {
      this.counters.journalSkippedLines = loaded.skippedLines;
      logger.warn({ file, lines: loaded.skippedLines }, 'journal lines that are not events were skipped; the events around them are kept');
    }
    if (loaded.lostIds.length > 0) {
      this.counters.journalLostEvents = loaded.lostIds.reduce((n, r) => n + r.to - r.from + 1, 0);
      // Re-reading the log cannot make them again: see "Damaged state" in docs/durability.md.
      logger.warn(
        { file, events: this.counters.journalLostEvents, ids: loaded.lostIds.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)) },
        'journal events lost with damaged lines; they cannot be made again from the log and are not served',
      );
    }
    if (loaded.migrated) logger.info({ file }, 'journal taken over from the single-file format');
    if (loaded.writeError !== null) this.fail(loaded.writeError);

    const cp = this.checkpointFile.load();
    if (cp.kind === 'loaded') {
      const c = cp.checkpoint;
      let resume: ResumePoint | null = null;
      if (c.path !== path) {
        logger.warn({ was: c.path, now: path }, 'log path changed since the checkpoint; reading the new one from its start');
      } else {
        resume = c.position;
      }
      if (c.tracker.nextEventId > journal.lastId + 1) {
        logger.error(
          { lastId: journal.lastId, nextEventId: c.tracker.nextEventId },
          'the journal is missing events the checkpoint covers (journal file lost?); ids continue after the gap',
        );
      }
      return { tracker: c.tracker, zone: resume === null ? null : c.zone, resume, knownCopies: c.knownCopies, tickEvents: c.events, fresh: false };
    }
    if (cp.kind === 'unusable') {
      logger.warn({ file: this.checkpointFile.file, reason: cp.reason }, 'checkpoint not usable; rebuilding it from the journal');
    } else if (journal.lastId > 0) {
      logger.warn({ file: this.checkpointFile.file, lastId: journal.lastId }, 'checkpoint missing; rebuilding it from the journal');
    }
    return { tracker: initialTrackerState(), zone: null, resume: null, knownCopies: [], tickEvents: [], fresh: true };
  }

  /** Something a checkpoint should cover has happened. */
  touch(): void {
    this.changed = true;
  }

  /** A checkpoint could not be written now; the end of the check writes it. */
  defer(): void {
    this.due = true;
  }

  /** At the end of a check: whether a checkpoint is wanted now. */
  wantedAfterCheck(marks: FollowerMarks): boolean {
    // A file is recognised after a rotation by its first bytes: checkpoint them as soon as they are read.
    const firstBytes = marks.headLength > 0 && this.content !== marks.content;
    // Bytes read from rotated copies are not a position a checkpoint can name: it must follow them.
    const copies = marks.copiesRead !== this.copies;
    return this.due || firstBytes || copies;
  }

  /** After the journal took new events (and wrote them through its store): notes a refusal, compacts. */
  appended(journal: Journal): void {
    // While the disk refuses, the store holds them in memory; the retry writes them.
    if (this.failure !== null) return;
    const refused = this.journalFile.writeError;
    if (refused !== null) {
      this.fail(refused);
      return;
    }
    try {
      if (this.journalFile.maybeCompact(journal)) this.counters.journalCompactions++;
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Fsyncs the journal, then writes the checkpoint; after a refused write, when
   * the backoff allows, rewrites the journal from memory first. Returns whether
   * the checkpoint was written.
   */
  checkpoint(checkpoint: Checkpoint, marks: FollowerMarks, journal: Journal): boolean {
    const failed = this.failure;
    if (failed !== null && this.options.now() < failed.retryAt) {
      this.due = true;
      return false;
    }
    let lost = 0;
    try {
      this.options.beforeWrite?.();
      if (failed !== null) lost = this.journalFile.retry(journal);
      this.journalFile.sync();
      this.checkpointFile.write(checkpoint);
    } catch (err) {
      this.fail(err);
      this.due = true;
      return false;
    }
    if (failed !== null) {
      this.failure = null;
      this.options.logger.info(
        { was: failed.error, since: new Date(failed.since).toISOString(), events: journal.size },
        'state directory writable again; what was pending is written',
      );
      if (lost > 0) {
        this.options.logger.warn(
          { events: lost, dropped: journal.dropped },
          'the state directory was deleted with journaled events; they are counted as dropped, their restores stay listed',
        );
      }
    }
    this.due = false;
    this.counters.checkpoints++;
    this.changed = false;
    this.content = checkpoint.position !== null && checkpoint.position.head.length > 0 ? marks.content : -1;
    this.copies = marks.copiesRead;
    return true;
  }

  /** Notes a refused write: reported when it starts or its reason changes, retried with backoff. */
  private fail(err: unknown): void {
    const e = err as NodeJS.ErrnoException;
    const error = e.code !== undefined ? `${e.code}: ${e.message}` : String(e?.message ?? err);
    const now = this.options.now();
    const first = this.options.retryMs ?? 1000;
    const prev = this.failure;
    const waitMs = prev === null ? first : Math.min(prev.waitMs * 2, this.options.retryMaxMs ?? 30_000);
    this.counters.writeFailures++;
    this.failure = { error, since: prev?.since ?? now, retryAt: now + waitMs, waitMs };
    if (prev === null || prev.error !== error) {
      this.options.logger.error(
        { err: error, retryInMs: waitMs },
        'cannot write the state directory; following and serving from memory, retrying',
      );
    }
  }
}
