/**
 * The hook runner tells someone when a restore or backup ends (and, if asked,
 * when one stalls): it runs the configured commands with the event as JSON on
 * stdin and a few RESTORE_WATCHER_* variables, captures what they print into the
 * agent's log, and retries a failed or timed-out command a bounded number of
 * times with a doubling delay.
 *
 * It follows the journal and works off its own queue, one event at a time in id
 * order, so a slow or failing hook never holds up the agent and never runs
 * concurrently with itself. After each event's commands have run (or been given
 * up on) the ledger records it, durably; on start the runner first runs the
 * hooks of terminal events the journal holds after the ledger's last one: those
 * that were due while the agent was down. A kill in the middle of a command's
 * run means that command runs again after the restart; a finished event never
 * does. Without a ledger (hooks just configured, or a new state directory) the
 * history already in the journal is not announced: hooks start with what comes next.
 */
import type { Logger } from 'pino';
import type { Journal } from '../journal/journal.js';
import { isTerminal, type WatchEvent } from '../model.js';
import type { HookLedger } from './ledger.js';

export interface HookSettings {
  /** Argument arrays, each run for every due event. */
  commands: string[][];
  /** Also run them when a restore or backup is reported stalled. */
  onStall: boolean;
  timeoutSeconds: number;
  /** Attempts per event and command, the first included. */
  maxAttempts: number;
  /** The wait before the second attempt; it doubles for each further one. */
  retryDelaySeconds: number;
}

export interface HookCounters {
  /** Command runs started (attempts). */
  runs: number;
  /** Runs that exited non-zero, could not start, or timed out. */
  failures: number;
  /** Of those, runs killed at the timeout. */
  timeouts: number;
  /** Commands given up on for an event after every attempt failed. */
  givenUp: number;
  /** Events whose hooks have all run and been recorded. */
  events: number;
  /** Events not queued because the queue was over its byte bound. */
  dropped: number;
  /** Failed writes of the ledger. */
  ledgerErrors: number;
}

export interface HookResult {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved. */
  output: string;
  /** Why it failed to start or was stopped, if so. */
  error: string | null;
}

export type HookExec = (command: string[], input: string, env: Record<string, string>, timeoutMs: number, signal: AbortSignal) => Promise<HookResult>;

export interface HookTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HookRunnerDeps {
  ledger: HookLedger;
  logger: Logger;
  exec?: HookExec;
  /** More variables for an event's hooks (e.g. the backups a restore made the Backup Manager forget). */
  moreEnvironment?: (event: WatchEvent) => Record<string, string>;
  timers?: HookTimers;
  /** Queued events above this many bytes of JSON are dropped and counted. */
  maxQueueBytes?: number;
}

/** Output kept from one run; the rest is cut (the log line says so). */
const MAX_OUTPUT_CHARS = 4096;

/** Runs a command with execa: no shell, the event on stdin, killed at the timeout. */
export const execaHook: HookExec = async (command, input, env, timeoutMs, signal) => {
  const [file, ...args] = command as [string, ...string[]];
  // Loaded on first use, as the readiness probe does: an agent without hooks never loads
  // execa. An import(), not a static import, also keeps the CommonJS bundle from
  // require()-ing this ES-only package.
  const { execa } = await import('execa');
  const r = await execa(file, args, {
    input,
    env,
    extendEnv: false,
    timeout: timeoutMs,
    cancelSignal: signal,
    all: true,
    reject: false,
    stripFinalNewline: true,
    maxBuffer: 1024 * 1024,
    forceKillAfterDelay: 2000,
  });
  const error = r.failed && r.exitCode === undefined ? (r.timedOut ? null : (r.shortMessage ?? null)) : null;
  return { exitCode: r.exitCode ?? null, timedOut: r.timedOut, output: typeof r.all === 'string' ? r.all : '', error };
};

const systemTimers: HookTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class HookRunner {
  readonly counters: HookCounters = { runs: 0, failures: 0, timeouts: 0, givenUp: 0, events: 0, dropped: 0, ledgerErrors: 0 };
  private readonly queue: { event: WatchEvent; json: string }[] = [];
  private queuedBytes = 0;
  private readonly exec: HookExec;
  private readonly timers: HookTimers;
  private readonly maxQueueBytes: number;
  private unsubscribe: () => void = () => {};
  private draining: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;

  constructor(
    private readonly settings: HookSettings,
    private readonly deps: HookRunnerDeps,
  ) {
    this.exec = deps.exec ?? execaHook;
    this.timers = deps.timers ?? systemTimers;
    this.maxQueueBytes = deps.maxQueueBytes ?? 4 * 1024 * 1024;
  }

  /** Events still waiting for their hooks. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues the hooks due since the ledger's last event, then follows the journal. */
  start(journal: Journal): void {
    const { ledger, logger } = this.deps;
    const loaded = ledger.load();
    if (loaded.kind === 'loaded') {
      const due = journal.since(loaded.lastEventId).filter((e) => this.due(e));
      if (due.length > 0) logger.info({ events: due.map((e) => e.id), after: loaded.lastEventId }, 'running hooks that were due while the agent was down');
      for (const e of due) this.enqueue(e);
    } else {
      if (loaded.kind === 'unusable') logger.warn({ file: ledger.file, reason: loaded.reason }, 'hook ledger not usable; hooks start with the next event');
      this.record(journal.lastId);
    }
    this.unsubscribe = journal.subscribe((events) => {
      for (const e of events) if (this.due(e)) this.enqueue(e);
    });
  }

  /** Stops taking events and kills a running command; its event's hooks run again after a restart. */
  async stop(): Promise<void> {
    this.unsubscribe();
    this.abort.abort();
    this.wake?.();
    await this.draining;
  }

  /** Resolves when the queue is empty (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.draining !== null) await this.draining;
  }

  private due(e: WatchEvent): boolean {
    return isTerminal(e.state) || (this.settings.onStall && e.state === 'stalled');
  }

  private enqueue(event: WatchEvent): void {
    const json = JSON.stringify(event);
    if (this.queuedBytes + json.length > this.maxQueueBytes) {
      this.counters.dropped++;
      this.deps.logger.error({ event: event.id, type: event.type, queued: this.queue.length }, 'hook queue full; event dropped, its hooks will not run');
      return;
    }
    this.queue.push({ event, json });
    this.queuedBytes += json.length;
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const { event, json } = this.queue[0]!;
      for (const command of this.settings.commands) {
        if (this.abort.signal.aborted) return;
        await this.runWithRetries(command, event, json);
      }
      if (this.abort.signal.aborted) return;
      this.queue.shift();
      this.queuedBytes -= json.length;
      this.record(event.id);
      this.counters.events++;
    }
  }

  private async runWithRetries(command: string[], event: WatchEvent, json: string): Promise<void> {
    const { logger } = this.deps;
    const { maxAttempts, retryDelaySeconds, timeoutSeconds } = this.settings;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.abort.signal.aborted) return;
      this.counters.runs++;
      let r: HookResult;
      try {
        const env = { ...hookEnvironment(event, attempt), ...this.deps.moreEnvironment?.(event) };
        r = await this.exec(command, json, env, timeoutSeconds * 1000, this.abort.signal);
      } catch (err) {
        r = { exitCode: null, timedOut: false, output: '', error: (err as Error).message };
      }
      if (this.abort.signal.aborted) return;
      const output = r.output.length > MAX_OUTPUT_CHARS ? `${r.output.slice(0, MAX_OUTPUT_CHARS)}… (${r.output.length} chars)` : r.output;
      const about = { hook: command[0], event: event.id, type: event.type, operation: event.operation.id, attempt, output };
      if (r.exitCode === 0 && !r.timedOut) {
        logger.info({ ...about, exitCode: 0 }, `hook ran for ${event.type} ${event.operation.id}`);
        return;
      }
      this.counters.failures++;
      if (r.timedOut) this.counters.timeouts++;
      const why = r.timedOut ? `timed out after ${timeoutSeconds}s` : r.error ?? `exited ${r.exitCode}`;
      if (attempt === maxAttempts) {
        this.counters.givenUp++;
        logger.error({ ...about, exitCode: r.exitCode }, `hook failed for ${event.type} ${event.operation.id} (${why}); giving up after ${attempt} attempt${attempt === 1 ? '' : 's'}`);
        return;
      }
      const delay = retryDelaySeconds * 1000 * 2 ** (attempt - 1);
      logger.warn({ ...about, exitCode: r.exitCode }, `hook failed for ${event.type} ${event.operation.id} (${why}); retrying in ${delay / 1000}s`);
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.timers.setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        this.timers.clearTimeout(handle);
        this.wake = null;
        resolve();
      };
    });
  }

  private record(lastEventId: number): void {
    try {
      this.deps.ledger.record(lastEventId);
    } catch (err) {
      this.counters.ledgerErrors++;
      this.deps.logger.error({ file: this.deps.ledger.file, err: (err as Error).message }, 'cannot write the hook ledger; hooks may run again after a restart');
    }
  }
}

/** The variables a hook gets: the agent's environment without its password, and what the event is. */
export function hookEnvironment(event: WatchEvent, attempt: number, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'RESTORE_WATCHER_PASSWORD') out[k] = v;
  return {
    ...out,
    RESTORE_WATCHER_EVENT: event.type,
    RESTORE_WATCHER_EVENT_ID: String(event.id),
    RESTORE_WATCHER_KIND: event.operation.kind,
    RESTORE_WATCHER_OPERATION_ID: event.operation.id,
    RESTORE_WATCHER_STATE: event.state,
    RESTORE_WATCHER_FAILURE: event.operation.failure ?? '',
    RESTORE_WATCHER_ATTEMPT: String(attempt),
  };
}
