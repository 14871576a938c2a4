/**
 * The live agent: follows the log (tail), runs it through split → parse → track,
 * files the events in the journal, and ticks the tracker so that a silent restore
 * is reported stalled. Everything the HTTP layer shows comes from here.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Journal } from './journal/journal.js';
import { EVENT_TYPES, type EventType, type Operation, type WatchEvent } from './model.js';
import { Pipeline, pipelineOptions, type PipelineCounters } from './pipeline.js';
import { FileFollower, type FollowerCounters, type FollowerNotice, type FollowerStatus } from './tail/follower.js';
import type { FileIdentity } from './tail/identity.js';

export interface AgentOptions {
  config: Config;
  logger: Logger;
  /** The wall clock, for stall ticks (injected for tests). */
  now?: () => number;
  /** Set false in tests that drive the follower themselves. */
  watch?: boolean;
}

export type AgentState = 'waiting-for-log' | 'idle' | `${'restore' | 'backup'}-${Operation['state']}`;

export interface AgentStatus {
  /** The active restore's or backup's state (e.g. `restore-running`), `idle`, or `waiting-for-log`. */
  state: AgentState;
  restore: Operation | null;
  backup: Operation | null;
  follower: FollowerStatus & { linesRead: number };
  lastEventId: number;
  journal: { events: number; firstId: number | null; dropped: number };
  counters: { pipeline: PipelineCounters; follower: FollowerCounters; events: Record<EventType, number> };
}

export class Agent {
  readonly journal: Journal;
  readonly pipeline: Pipeline;
  readonly follower: FileFollower;
  /** Events filed since start, by type (for /metrics). */
  readonly eventCounts = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
  private readonly logger: Logger;
  private readonly now: () => number;
  private tickTimer: NodeJS.Timeout | null = null;
  /** The log clock at the last tick, and the wall time when it was first seen. */
  private lastClock: number | null = null;
  private lastClockSeenAt = 0;

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.journal = new Journal({ maxEvents: config.journal.maxEvents });
    this.pipeline = new Pipeline(pipelineOptions(config), config.log.path);
    this.follower = new FileFollower(
      {
        path: config.log.path,
        pollIntervalMs: config.log.pollIntervalMs,
        rotationGraceMs: config.log.rotationGraceMs,
        watch: options.watch ?? true,
      },
      {
        data: (chunk) => this.file(this.pipeline.push(chunk)),
        pause: () => this.file(this.pipeline.pause()),
        switchFile: (_identity: FileIdentity, offset: number) =>
          this.file(this.pipeline.startFile(config.log.path, offset)),
        notice: (n) => this.onNotice(n),
      },
    );
  }

  async start(): Promise<void> {
    await this.follower.start();
    const every = Math.min(1000, (this.options.config.track.stallAfterSeconds * 1000) / 10);
    this.tickTimer = setInterval(() => this.tick(), every);
    this.tickTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    await this.follower.stop();
  }

  /**
   * Lets the tracker notice silence. Silence is measured on the log's own clock:
   * the time of the latest line plus the wall-clock time since that line was
   * read. A log whose writer's clock (or zone) differs from ours, or a history
   * from long ago read at start, is then judged by its own pace, not by ours.
   */
  tick(): void {
    const clock = this.pipeline.trackerState.clock;
    if (clock === null) return;
    const wall = this.now();
    if (clock !== this.lastClock) {
      this.lastClock = clock;
      this.lastClockSeenAt = wall;
    }
    this.file(this.pipeline.tick(clock + (wall - this.lastClockSeenAt)));
  }

  status(): AgentStatus {
    const active = this.pipeline.trackerState.active?.op ?? null;
    const follower = this.follower.status();
    const state: AgentState =
      active !== null ? `${active.kind}-${active.state}` : follower.exists ? 'idle' : 'waiting-for-log';
    return {
      state,
      restore: this.journal.latest('restore'),
      backup: this.journal.latest('backup'),
      follower: { ...follower, linesRead: this.pipeline.counters.lines },
      lastEventId: this.journal.lastId,
      journal: { events: this.journal.size, firstId: this.journal.firstId, dropped: this.journal.dropped },
      counters: { pipeline: this.pipeline.counters, follower: this.follower.counters, events: this.eventCounts },
    };
  }

  private file(events: WatchEvent[]): void {
    if (events.length === 0) return;
    for (const e of this.journal.append(events)) {
      this.eventCounts[e.type]++;
      this.logger.info(
        {
          event: { id: e.id, type: e.type, operation: e.operation.id, state: e.state, time: e.time },
          message: e.message.length > 2000 ? `${e.message.slice(0, 2000)}…` : e.message,
        },
        `${e.type} ${e.operation.id}`,
      );
    }
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
        this.logger.info({ path: n.path, fromInode: n.from.ino, toInode: n.to.ino }, 'log file rotated');
        break;
      case 'truncated':
        this.logger.warn({ path: n.path, at: n.at, size: n.size }, 'log file truncated; reading it again from the start');
        break;
      case 'missing':
        this.logger.warn({ path: n.path }, 'log file disappeared; waiting for it to be re-created');
        break;
      case 'error':
        this.logger.error({ path: n.path, err: n.message }, 'reading the log failed; retrying on the next check');
        break;
    }
  }
}
