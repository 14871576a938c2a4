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
 * ids, which the journal skips as already there (see reconcile.ts). Events a tick
 * makes (a stall noticed on the wall clock) cannot be regenerated: they are
 * checkpointed at once, before they reach the journal.
 *
 * This module composes the roles: the log reader (the pipeline, skipping what
 * the idle tracker ignores), persistence (when and in what order state is
 * written), the log clock, reconciling ids, the notices' log lines, the status.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { Checkpointer } from '../journal/checkpoint.js';
import { fitEvent, Journal } from '../journal/journal.js';
import { JournalStore } from '../journal/store.js';
import { ProgressLogThrottle } from '../log-output.js';
import { EVENT_TYPES, type EventType, type WatchEvent } from '../model.js';
import { pipelineOptions } from '../pipeline.js';
import { LAZY_LIMITS } from '../scan/lazy.js';
import { FileFollower } from '../tail/follower.js';
import { sameFile } from '../tail/identity.js';
import type { FileIdentity } from '../model.js';
import { initialTrackerState } from '../track/tracker.js';
import { LogClock } from './log-clock.js';
import { LogReader } from './log-reader.js';
import { logEvent, logNotice } from './notices.js';
import { Persistence, type FollowerMarks } from './persistence.js';
import { rebuildPoint, reconcile, skipKnown, type RebuildPoint } from './reconcile.js';
import { agentStatus, type AgentStatus } from './status.js';


/**
 * Bytes of the log handed to the pipeline at a time (the follower reads up to 1 MiB
 * and hands it on in slices of this size). A 256 KiB slice of a log dense with events makes a
 * thousand events, about 2 MB held at once until they are filed: more than the
 * job's young generation holds (`--max-semi-space-size`), so all of it would be
 * promoted and left to full collections. 64 KiB keeps a slice's events young, and
 * the stream clients' sockets drain between two slices' events: the follower hands
 * them on a turn of the event loop apart, not back to back.
 */
const READ_BYTES = 64 * 1024;

export interface AgentOptions {
  config: Config;
  logger: Logger;
  /** The wall clock, for stall ticks and the rotation grace period (injected for tests). */
  now?: () => number;
  /** Set false in tests that drive the follower, ticks and checkpoints themselves: no watcher, no timers. */
  watch?: boolean;
  /** Throws while the state directory may not be written (StateDirKeeper.check: its lock is being taken again). */
  beforeWrite?: () => void;
}

export class Agent {
  readonly journal: Journal;
  readonly follower: FileFollower;
  /** Events filed since start, by type (for /metrics). */
  readonly eventCounts = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
  private pipe: LogReader;
  private readonly store: JournalStore;
  private readonly checkpointer: Checkpointer;
  private readonly persistence: Persistence;
  private readonly clock: LogClock;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly progressLog = new ProgressLogThrottle();
  private tickTimer: NodeJS.Timeout | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The first read of what was already written has finished. */
  private caughtUp = false;
  /**
   * While rebuilding a lost checkpoint: the file, and the offset through which its
   * lines are journaled already; `seen` once its bytes have been read.
   */
  private rebuilding: (RebuildPoint & { seen: boolean }) | null = null;
  /** The file the bytes last read came from. */
  private reading: FileIdentity | null = null;
  /** Why the last check of the log failed; null once one goes through. */
  private readError: string | null = null;

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    this.logger = options.logger;
    const now = options.now ?? Date.now;
    this.now = now;
    this.clock = new LogClock(now);
    this.store = new JournalStore(config.stateDir, {
      compactSlack: Math.max(100, Math.ceil(config.journal.maxEvents / 10)),
      // Segments sealed by count rather than by the store's 4 MiB: each seal is two fsyncs and a
      // rename, which on a log dense with events (about 1 KB each) came every 4,000 events.
      segmentBytes: 16 * 1024 * 1024,
    });
    // The journal indexes events in memory; their bodies stay in the store's files.
    this.journal = new Journal({ maxEvents: config.journal.maxEvents, bodies: this.store });
    this.checkpointer = new Checkpointer(config.stateDir);
    this.persistence = new Persistence(this.store, this.checkpointer, {
      logger: this.logger,
      now,
      ...(options.beforeWrite !== undefined ? { beforeWrite: options.beforeWrite } : {}),
    });
    this.pipe = new LogReader(pipelineOptions(config), config.log.path);
    this.follower = new FileFollower(
      {
        path: config.log.path,
        pollIntervalMs: config.log.pollIntervalMs,
        rotationGraceMs: config.log.rotationGraceMs,
        readSize: READ_BYTES,
        watch: options.watch ?? true,
        now,
      },
      {
        data: (chunk, _offset, from) => {
          this.persistence.touch();
          this.reading = from.identity;
          this.file(this.pipe.push(chunk, from));
        },
        pause: () => {
          this.file(this.pipe.pause());
          this.clock.note(this.pipe.trackerState.clock);
        },
        switchFile: (from, offset) => {
          this.persistence.touch();
          this.file(this.pipe.startFile(from, offset));
        },
        end: () => {
          this.persistence.touch();
          this.file(this.pipe.end());
        },
        idle: () => {
          this.readError = null;
          // A long first read is checkpointed each time the follower pauses in it.
          const firstRead = !this.caughtUp && this.persistence.dirty;
          if (this.persistence.wantedAfterCheck(this.marks()) || firstRead) this.checkpoint();
        },
        notice: (n) => {
          if (n.kind === 'error') this.readError = n.message;
          logNotice(this.logger, n);
        },
      },
    );
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
    try {
      mkdirSync(config.stateDir, { recursive: true });
    } catch {
      // Reported by the load below, which cannot create its files either; the agent serves from memory.
    }
    const loaded = this.persistence.load(this.journal, path);
    this.follower.rememberCopies(loaded.knownCopies);
    this.file(loaded.tickEvents);
    let tracker = loaded.tracker;
    if (loaded.fresh && this.journal.lastId > 0) {
      // No checkpoint to resume from: the log is read from its start. If it still holds the
      // journal's newest line, what comes before it is known; otherwise all of it is new.
      const point = await rebuildPoint(this.journal, rebuildCandidates(path));
      if (point !== null) this.rebuilding = { ...point, seen: false };
      else tracker = initialTrackerState(this.journal.lastId + 1);
      this.logger.info({ lastId: this.journal.lastId, knownThroughOffset: point?.offset ?? null }, 'checkpoint rebuilt from the journal');
    }
    this.pipe = new LogReader(pipelineOptions(config), path, loaded.resume?.offset ?? 0, tracker, LAZY_LIMITS, loaded.zone);
    this.follower.resumeAt(loaded.resume);
    // There is always a checkpoint before the first event, so a crash never leaves a journal without one.
    if (loaded.fresh) this.checkpoint();
    this.logger.info(
      {
        stateDir: config.stateDir,
        events: this.journal.size,
        lastId: this.journal.lastId,
        resumeOffset: loaded.resume?.offset ?? null,
      },
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
    this.endRebuild();
    this.caughtUp = true;
    // The first read's end was checkpointed as the follower settled after it: another now
    // would write the same position and state again, three fsyncs before the agent says it
    // caught up. One is written if something is still to be covered (a deferred or refused
    // checkpoint, ids shifted by the rebuild's end).
    if (this.persistence.wanted) this.checkpoint();
    if (this.options.watch !== false) {
      const every = Math.min(1000, (config.track.stallAfterSeconds * 1000) / 10);
      this.tickTimer = setInterval(() => this.tick(), every);
      this.tickTimer.unref();
      this.checkpointTimer = setInterval(() => {
        if (this.persistence.wanted) this.checkpoint();
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
   * Lets the tracker notice silence, measured on the log's own clock (see
   * LogClock). Skipped during a check (positions are in flux); the next tick
   * comes soon.
   */
  tick(): void {
    if (this.follower.busy || this.stopped) return;
    this.clock.note(this.pipe.trackerState.clock);
    const at = this.clock.read();
    if (at === null) return;
    // A stall must be checkpointed with it; when the file changed under us, wait for the next check.
    if (this.follower.status().exists && this.follower.positionAt(this.pipe.position.offset) === null) return;
    const events = this.pipe.tick(at).map(fitEvent);
    if (events.length === 0) return;
    // Re-reading the log would not make these again: checkpoint them before they reach the journal.
    this.persistence.touch();
    this.checkpoint(events);
    this.file(events);
  }

  /**
   * Fsyncs the journal, then writes the checkpoint. Deferred to the end of the
   * check in progress, if any. Returns whether it was written.
   */
  checkpoint(tickEvents: WatchEvent[] = []): boolean {
    if (this.follower.busy && tickEvents.length === 0) {
      this.persistence.defer();
      return false;
    }
    const at = this.follower.positionAt(this.pipe.position.offset);
    if (at === null && this.follower.status().exists) {
      // Cannot say which bytes the offset is in; keep the previous checkpoint.
      this.persistence.defer();
      return false;
    }
    return this.persistence.checkpoint(
      {
        path: this.options.config.log.path,
        position: at,
        knownCopies: this.follower.knownCopies(),
        tracker: this.pipe.trackerState,
        zone: this.pipe.zoneState,
        events: tickEvents,
      },
      this.marks(),
      this.journal,
    );
  }

  status(): AgentStatus {
    return agentStatus({
      tracker: this.pipe.trackerState,
      follower: this.follower.status(),
      followerCounters: this.follower.counters,
      pipelineCounters: this.pipe.counters,
      journal: this.journal,
      caughtUp: this.caughtUp,
      eventCounts: this.eventCounts,
      persistence: this.persistence.counters,
      health: this.persistence.health(),
      readError: this.readError,
    });
  }

  private marks(): FollowerMarks {
    return { headLength: this.follower.headLength, content: this.follower.contentGeneration, copiesRead: this.follower.counters.copiesRead };
  }

  /** A rebuild is over (another file, or caught up): ids go on after the journal's. */
  private endRebuild(): void {
    if (this.rebuilding === null) return;
    this.rebuilding = null;
    const next = this.journal.lastId + 1;
    if (this.pipe.trackerState.nextEventId < next) {
      this.pipe.shiftEventIds(next - this.pipe.trackerState.nextEventId);
      this.persistence.touch();
    }
  }

  private file(made: readonly WatchEvent[]): void {
    if (made.length === 0) return;
    const r = this.rebuilding;
    if (r !== null) {
      // Rotated copies are read before the log: another file's lines before the known one's are
      // older (known), after it newer (new).
      const known = sameFile(this.reading, r.identity);
      if (!known && !r.seen) return;
      r.seen = true;
      const skipped = known ? skipKnown(made, r.offset, this.journal.lastId) : skipKnown(made, -1, this.journal.lastId);
      if (skipped.events.length === 0) return;
      this.rebuilding = null;
      this.pipe.shiftEventIds(skipped.shift);
      made = skipped.events;
    }
    // Capped first, as the journal keeps them, so that a re-made event compares equal to its journaled self.
    const { events, shift, renumbered } = reconcile(this.journal, made.map(fitEvent));
    for (const r of renumbered) {
      this.logger.warn(r, 'the log no longer holds the lines of some journaled events; numbering follows the journal');
    }
    if (shift !== 0) this.pipe.shiftEventIds(shift);
    const fresh = this.journal.append(events);
    if (fresh.length === 0) return;
    this.persistence.appended(this.journal);
    const now = this.now();
    for (const e of fresh) {
      this.eventCounts[e.type]++;
      logEvent(this.logger, e, this.progressLog, now);
    }
  }
}

/** The files a rebuild looks in for the journal's newest line: the log, then its rotated copies as logrotate names them. */
function rebuildCandidates(path: string): string[] {
  const copies = Array.from({ length: 7 }, (_, i) => [`${path}.${i + 1}`, `${path}.${i + 1}.gz`]);
  return [path, ...copies.flat()];
}
