/**
 * The live agent: follows the log (tail), runs it through split → parse → track,
 * files the events in the journal, and ticks the tracker so that a silent restore
 * is reported stalled. Everything the HTTP layer shows comes from here.
 *
 * It survives restarts, kill -9 included, without losing or repeating an event.
 * Events are written to the journal file as they are made; every second or so
 * (when something changed) the journal is fsynced and then a checkpoint is written:
 * the position after the last line fully processed, with the tracker's state. So
 * the journal always holds every event the checkpoint covers, and on restart
 * re-reading from the checkpoint regenerates the events made since, with the same
 * ids, which the journal skips as already there. Events a tick makes (a stall
 * noticed on the wall clock) cannot be regenerated: they are checkpointed at once,
 * before they reach the journal.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Checkpointer } from './journal/checkpoint.js';
import { fitEvent, Journal } from './journal/journal.js';
import { ProgressLogThrottle } from './log-output.js';
import { JournalStore } from './journal/store.js';
import { EVENT_TYPES, type EventType, type Operation, type WatchEvent } from './model.js';
import { Pipeline, pipelineOptions, type PipelineCounters } from './pipeline.js';
import {
  FileFollower,
  type FollowerCounters,
  type FollowerNotice,
  type FollowerStatus,
  type ResumePoint,
} from './tail/follower.js';
import { initialTrackerState, type TrackerState } from './track/tracker.js';

export interface AgentOptions {
  config: Config;
  logger: Logger;
  /** The wall clock, for stall ticks and the rotation grace period (injected for tests). */
  now?: () => number;
  /** Set false in tests that drive the follower, ticks and checkpoints themselves: no watcher, no timers. */
  watch?: boolean;
}

export type AgentState = 'waiting-for-log' | 'idle' | `${'restore' | 'backup'}-${Operation['state']}`;

export interface PersistenceCounters {
  checkpoints: number;
  journalCompactions: number;
  /** Bytes of a torn last journal line cut off at start (a crash mid-write). */
  journalTornBytes: number;
}

export interface AgentStatus {
  /** The active restore's or backup's state (e.g. `restore-running`), `idle`, or `waiting-for-log`. */
  state: AgentState;
  restore: Operation | null;
  backup: Operation | null;
  /** Which file, whether it exists, the offset and lines read, and whether the first read has finished. */
  follower: FollowerStatus & { linesRead: number; caughtUp: boolean };
  lastEventId: number;
  journal: { events: number; firstId: number | null; dropped: number };
  counters: {
    pipeline: PipelineCounters;
    follower: FollowerCounters;
    events: Record<EventType, number>;
    persistence: PersistenceCounters;
  };
}

export class Agent {
  readonly journal: Journal;
  readonly follower: FileFollower;
  /** Events filed since start, by type (for /metrics). */
  readonly eventCounts = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
  private pipe: Pipeline;
  private readonly store: JournalStore;
  private readonly checkpointer: Checkpointer;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly persistence: PersistenceCounters = { checkpoints: 0, journalCompactions: 0, journalTornBytes: 0 };
  private tickTimer: NodeJS.Timeout | null = null;
  /** The log clock at the last tick, and the wall time when it was first seen. */
  private lastClock: number | null = null;
  private lastClockSeenAt = 0;
  private checkpointTimer: NodeJS.Timeout | null = null;
  /** Something changed since the last checkpoint. */
  private dirty = false;
  /** A checkpoint was asked for during a check; it is written when the check ends. */
  private checkpointDue = false;
  private stopped = false;
  private readonly progressLog = new ProgressLogThrottle();
  /** The first read of what was already written has finished. */
  private caughtUp = false;
  /** The follower's content (see FileFollower.content) the last checkpoint knew by some of its bytes. */
  private checkpointedContent = -1;
  /** The follower's count of rotated copies read, as of the last checkpoint. */
  private checkpointedCopies = 0;

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.store = new JournalStore(config.stateDir, { compactSlack: Math.max(100, Math.ceil(config.journal.maxEvents / 10)) });
    // The journal indexes events in memory; their bodies stay in the store's files.
    this.journal = new Journal({ maxEvents: config.journal.maxEvents, bodies: this.store });
    this.checkpointer = new Checkpointer(config.stateDir);
    this.pipe = new Pipeline(pipelineOptions(config), config.log.path);
    this.follower = new FileFollower(
      {
        path: config.log.path,
        pollIntervalMs: config.log.pollIntervalMs,
        rotationGraceMs: config.log.rotationGraceMs,
        watch: options.watch ?? true,
        now: this.now,
      },
      {
        data: (chunk) => {
          this.dirty = true;
          this.file(this.pipe.push(chunk));
        },
        pause: () => {
          this.file(this.pipe.pause());
          this.noteClock();
        },
        switchFile: (_identity, offset) => {
          this.dirty = true;
          this.file(this.pipe.startFile(config.log.path, offset));
        },
        end: () => {
          this.dirty = true;
          this.file(this.pipe.end());
        },
        idle: () => {
          // A file is recognised after a rotation by its first bytes: checkpoint them as soon as they are read.
          const firstBytes = this.follower.headLength > 0 && this.checkpointedContent !== this.follower.content;
          // Bytes read from rotated copies are not a position a checkpoint can name: it must follow them.
          const copies = this.follower.counters.copiesRead !== this.checkpointedCopies;
          // A long first read is checkpointed each time the follower pauses in it.
          const firstRead = !this.caughtUp && this.dirty;
          if (this.checkpointDue || firstBytes || copies || firstRead) this.checkpoint();
        },
        notice: (n) => this.onNotice(n),
      },
    );
  }

  get pipeline(): Pipeline {
    return this.pipe;
  }

  /** Loads the journal and the checkpoint, then follows the log from where it stopped. */
  async start(): Promise<void> {
    await this.open();
    await this.follow();
  }

  /** Loads the journal and the checkpoint: after this, status() and the journal answer. */
  async open(): Promise<void> {
    const { config } = this.options;
    const path = config.log.path;
    mkdirSync(config.stateDir, { recursive: true });
    const loaded = this.store.loadInto(this.journal);
    if (loaded.unusable !== null) {
      this.logger.warn({ file: this.store.file, reason: loaded.unusable }, 'journal file not readable; set aside, starting a new one');
    }
    if (loaded.tornBytes > 0) {
      this.persistence.journalTornBytes = loaded.tornBytes;
      this.logger.warn({ file: this.store.file, bytes: loaded.tornBytes }, 'journal ended in a torn line (a crash mid-write); cut off');
    }
    if (loaded.migrated) this.logger.info({ file: this.store.file }, 'journal taken over from the single-file format');
    if (this.journal.capacity < config.journal.maxEvents) {
      this.logger.warn({ maxEvents: config.journal.maxEvents, kept: this.journal.capacity }, 'journal.maxEvents lowered: its index would not fit in memory');
    }

    const cp = this.checkpointer.load();
    let tracker: TrackerState = initialTrackerState();
    let resume: ResumePoint | null = null;
    if (cp.kind === 'loaded') {
      const c = cp.checkpoint;
      tracker = c.tracker;
      if (c.path !== path) {
        this.logger.warn({ was: c.path, now: path }, 'log path changed since the checkpoint; reading the new one from its start');
      } else if (c.position !== null) {
        resume = c.position;
      }
      this.follower.rememberCopies(c.knownCopies);
      this.file(c.events);
      if (tracker.nextEventId > this.journal.lastId + 1) {
        this.logger.error(
          { lastId: this.journal.lastId, nextEventId: tracker.nextEventId },
          'the journal is missing events the checkpoint covers (journal file lost?); ids continue after the gap',
        );
      }
    } else {
      if (cp.kind === 'unusable') {
        this.logger.warn({ file: this.checkpointer.file, reason: cp.reason }, 'checkpoint not usable; reading the log from its start');
      }
      // Without a position the log is read from its start: ids carry on after the journal's,
      // so nothing is lost, though what is still in the log may be reported again.
      tracker = initialTrackerState(this.journal.lastId + 1);
      if (this.journal.lastId > 0) {
        this.logger.warn({ lastId: this.journal.lastId }, 'journal without checkpoint; events still in the log may be reported again');
      }
    }
    this.pipe = new Pipeline(pipelineOptions(config), path, resume?.offset ?? 0, tracker);
    this.follower.resumeAt(resume);
    // There is always a checkpoint before the first event, so a crash never leaves a journal without one.
    if (cp.kind !== 'loaded') this.checkpoint();
    this.logger.info(
      { stateDir: config.stateDir, events: this.journal.size, lastId: this.journal.lastId, resumeOffset: resume?.offset ?? null },
      'state loaded',
    );
  }

  /**
   * Follows the log from where the checkpoint left it; resolves once what was
   * already written has been read (for a large log after a restart, that can take
   * seconds: the HTTP server answers meanwhile, with `follower.caughtUp` false).
   */
  async follow(): Promise<void> {
    const { config } = this.options;
    await this.follower.start();
    this.caughtUp = true;
    this.checkpoint();
    if (this.options.watch !== false) {
      const every = Math.min(1000, (config.track.stallAfterSeconds * 1000) / 10);
      this.tickTimer = setInterval(() => this.tick(), every);
      this.tickTimer.unref();
      this.checkpointTimer = setInterval(() => {
        if (this.dirty) this.checkpoint();
      }, config.journal.checkpointIntervalMs);
      this.checkpointTimer.unref();
    }
  }

  /**
   * Stops following. With `checkpoint: false` nothing more is written, as if the
   * process had been killed (tests use this to model kill -9 in-process).
   */
  async stop(options: { checkpoint?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.checkpointTimer !== null) clearInterval(this.checkpointTimer);
    this.tickTimer = null;
    this.checkpointTimer = null;
    await this.follower.halt();
    if (options.checkpoint !== false) this.checkpoint();
    await this.follower.stop();
    this.store.close();
  }

  /**
   * Lets the tracker notice silence. Silence is measured on the log's own clock:
   * the time of the latest line plus the wall-clock time since that line was
   * read. A log whose writer's clock (or zone) differs from ours, or a history
   * from long ago read at start, is then judged by its own pace, not by ours.
   * Skipped during a check (positions are in flux); the next tick comes soon.
   */
  tick(): void {
    if (this.follower.busy || this.stopped) return;
    this.noteClock();
    const clock = this.lastClock;
    if (clock === null) return;
    // A stall must be checkpointed with it; when the file changed under us, wait for the next check.
    if (this.follower.status().exists && this.follower.positionAt(this.pipe.position.offset) === null) return;
    const events = this.pipe.tick(clock + (this.now() - this.lastClockSeenAt)).map(fitEvent);
    if (events.length === 0) return;
    // Re-reading the log would not make these again: checkpoint them before they reach the journal.
    this.dirty = true;
    this.checkpoint(events);
    this.file(events);
  }

  /** Remembers when the log's clock (its latest line's time) last moved on, on our clock. */
  private noteClock(): void {
    const clock = this.pipe.trackerState.clock;
    if (clock === this.lastClock) return;
    this.lastClock = clock;
    this.lastClockSeenAt = this.now();
  }

  /**
   * Fsyncs the journal, then writes the checkpoint. Deferred to the end of the
   * check in progress, if any. Returns whether it was written.
   */
  checkpoint(tickEvents: WatchEvent[] = []): boolean {
    if (this.follower.busy && tickEvents.length === 0) {
      this.checkpointDue = true;
      return false;
    }
    const position = this.pipe.position;
    const at = this.follower.positionAt(position.offset);
    if (at === null && this.follower.status().exists) {
      // Cannot say which bytes the offset is in; keep the previous checkpoint.
      this.checkpointDue = true;
      return false;
    }
    this.checkpointDue = false;
    this.store.sync();
    this.checkpointer.write({
      path: this.options.config.log.path,
      position: at,
      knownCopies: this.follower.knownCopies(),
      tracker: this.pipe.trackerState,
      events: tickEvents,
    });
    this.persistence.checkpoints++;
    this.dirty = false;
    this.checkpointedContent = at !== null && at.head.length > 0 ? this.follower.content : -1;
    this.checkpointedCopies = this.follower.counters.copiesRead;
    return true;
  }

  status(): AgentStatus {
    const active = this.pipe.trackerState.active?.op ?? null;
    const follower = this.follower.status();
    const state: AgentState =
      active !== null ? `${active.kind}-${active.state}` : follower.exists ? 'idle' : 'waiting-for-log';
    return {
      state,
      restore: this.journal.latest('restore'),
      backup: this.journal.latest('backup'),
      follower: { ...follower, linesRead: this.pipe.counters.lines, caughtUp: this.caughtUp },
      lastEventId: this.journal.lastId,
      journal: { events: this.journal.size, firstId: this.journal.firstId, dropped: this.journal.dropped },
      counters: {
        pipeline: this.pipe.counters,
        follower: this.follower.counters,
        events: this.eventCounts,
        persistence: this.persistence,
      },
    };
  }

  private file(made: readonly WatchEvent[]): void {
    if (made.length === 0) return;
    // Capped first, as the journal keeps them, so that a re-made event compares equal to its journaled self.
    const events = this.catchUp(made.map(fitEvent));
    const fresh = this.journal.append(events);
    if (fresh.length === 0) return;
    if (this.store.maybeCompact(this.journal)) this.persistence.journalCompactions++;
    for (const e of fresh) {
      this.eventCounts[e.type]++;
      const level = this.progressLog.level(e, this.now());
      const quiet = level === 'info' ? this.progressLog.quietBefore : 0;
      this.logger[level](
        {
          ...(quiet > 0 ? { progressEventsNotLogged: quiet } : {}),
          event: { id: e.id, type: e.type, operation: e.operation.id, state: e.state, time: e.time },
          message: e.message.length > 2000 ? `${e.message.slice(0, 2000)}…` : e.message,
        },
        `${e.type} ${e.operation.id}`,
      );
    }
  }

  /**
   * After a restart, re-reading from the checkpoint makes events the journal has
   * already: same id, same source line; the journal skips them. If an event comes
   * with a journaled id but from another line, the bytes that made the journaled
   * one are gone (emptied or deleted while the agent was down): if the journal has
   * this event's line further on, numbering resumes from there (it is skipped too);
   * otherwise the event is new and numbered after the journal's last.
   */
  private catchUp(events: readonly WatchEvent[]): readonly WatchEvent[] {
    const last = this.journal.lastId;
    if (events[0]!.id > last) return events;
    const out: WatchEvent[] = [];
    let shift = 0;
    for (const made of events) {
      const e = shift === 0 ? made : { ...made, id: made.id + shift };
      if (e.id > last) {
        out.push(e);
        continue;
      }
      const kept = this.journal.since(e.id - 1, 1)[0];
      // Dropped from memory already: nothing to compare with; the ids say it is known.
      if (kept === undefined || kept.id !== e.id || sameSource(kept, e)) continue;
      const later = this.journal.find(e.id, (k) => sameSource(k, e));
      const to = later?.id ?? last + 1;
      this.logger.warn(
        { id: e.id, renumberedTo: to, lastId: last, line: e.line.slice(0, 200) },
        'the log no longer holds the lines of some journaled events; numbering follows the journal',
      );
      shift += to - e.id;
      if (later === undefined) out.push({ ...e, id: to });
    }
    if (shift !== 0) this.pipe.shiftEventIds(shift);
    return out;
  }

  private onNotice(n: FollowerNotice): void {
    switch (n.kind) {
      case 'waiting':
        this.logger.warn({ path: n.path }, 'log file does not exist yet; waiting for it to appear');
        break;
      case 'opened':
        this.logger.info({ path: n.path, offset: n.offset, inode: n.identity.ino }, 'following log file');
        break;
      case 'rotated':
        this.logger.info(
          { path: n.path, fromInode: n.from.ino, toInode: n.to.ino, rotatedInBetween: n.between },
          'log file rotated; reading the old one to its end first',
        );
        break;
      case 'truncated':
        if (n.recoveredFrom !== null) {
          this.logger.info(
            { path: n.path, at: n.at, size: n.size, recoveredFrom: n.recoveredFrom, bytesRecovered: n.bytesRecovered },
            'log file truncated (copytruncate); read the rest from its rotated copy, reading it again from the start',
          );
        } else {
          this.logger.warn(
            { path: n.path, at: n.at, size: n.size },
            'log file truncated and no rotated copy holds what followed; reading it again from the start',
          );
        }
        break;
      case 'copy-read':
        this.logger.info({ path: n.path, from: n.from, bytes: n.bytes }, 'read a rotated copy that had not been read');
        break;
      case 'missing':
        this.logger.warn({ path: n.path }, 'log file disappeared; waiting for it to be re-created');
        break;
      case 'resumed':
        this.logger.info({ path: n.path, offset: n.offset, from: n.from }, 'resumed from the checkpoint');
        break;
      case 'resume-lost':
        this.logger.warn(
          { path: n.path, offset: n.offset },
          'the checkpointed log content is gone (rotated away and deleted while stopped); reading the log from its start',
        );
        break;
      case 'error':
        this.logger.error({ path: n.path, err: n.message }, 'reading the log failed; retrying on the next check');
        break;
    }
  }
}

function sameSource(a: WatchEvent, b: WatchEvent): boolean {
  return a.type === b.type && a.operation.id === b.operation.id && a.offset === b.offset && a.line === b.line;
}
