/**
 * What tells the follower to look at its file again. In service, fs.watch on the
 * log's directory wakes it milliseconds after a write, and a short poll catches
 * what fs.watch misses (some filesystems, events lost under load, a directory
 * that does not exist yet). Tests use the manual waker and decide themselves when
 * the follower looks.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Runs the follower's next check; resolves when it is done. */
export type Wake = () => Promise<void>;

/** Owns the wake-ups of one follower: calls `wake` whenever the path may have changed. */
export interface Waker {
  start(wake: Wake): void;
  /** The path is there now (opened): a watcher that could not start before may start now. */
  pathSeen?(): void;
  stop(): void;
}

/** fs.watch on the directory of `path` for names starting with its base name, plus a poll every `pollIntervalMs`. */
export class FsWaker implements Waker {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wake: Wake | null = null;

  constructor(
    private readonly path: string,
    private readonly pollIntervalMs: number,
  ) {}

  start(wake: Wake): void {
    this.wake = wake;
    this.startWatcher();
    this.timer = setInterval(() => void wake(), this.pollIntervalMs);
    this.timer.unref();
  }

  pathSeen(): void {
    if (this.watcher === null && this.wake !== null) this.startWatcher();
  }

  stop(): void {
    this.wake = null;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private startWatcher(): void {
    const wake = this.wake;
    if (wake === null) return;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file === null || file.startsWith(name)) void wake();
      });
      this.watcher.on('error', () => {
        // The directory went away or cannot be watched: the poll carries on alone.
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // No directory yet, or no inotify: polling alone still finds every change.
      this.watcher = null;
    }
  }
}

/** Wakes only when told to: `wake()` runs the follower's next check. */
export class ManualWaker implements Waker {
  private target: Wake | null = null;

  start(wake: Wake): void {
    this.target = wake;
  }

  stop(): void {
    this.target = null;
  }

  /** True between start and stop. */
  get started(): boolean {
    return this.target !== null;
  }

  /** Runs a check now; resolves when it is done (at once when the follower is not started). */
  wake(): Promise<void> {
    return this.target?.() ?? Promise.resolve();
  }
}

/**
 * Owns the running of checks, so that they never overlap: asked while one runs, it
 * runs one more pass after it, and every caller is answered when the passes are
 * done. An error ends the run; one that repeats the last is flagged as such, so it
 * can be counted without being told again.
 */
export class SerialChecks {
  private running: Promise<void> | null = null;
  private again = false;
  /** The pass stopped part-way (see `breathe`): the sink settles before the next one. */
  private paused = false;
  /** Between two passes of a check, while the sink settles: positions are settled. */
  private between = false;
  private lastError: string | null = null;

  constructor(
    private readonly hooks: {
      pass(): Promise<void>;
      stopped(): boolean;
      failed(err: Error, repeated: boolean): void;
      settled(): void;
    },
  ) {}

  /** True while a check runs, except between two of its passes while the sink settles. */
  get busy(): boolean {
    return this.running !== null && !this.between;
  }

  /** From inside a pass: run one more pass after this one. */
  repeat(): void {
    this.again = true;
  }

  /**
   * From inside a pass that stopped part-way through a long read: let the sink
   * settle (take a checkpoint) before the next pass goes on.
   */
  breathe(): void {
    this.paused = true;
    this.again = true;
  }

  run(): Promise<void> {
    const { hooks } = this;
    if (hooks.stopped()) return Promise.resolve();
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await hooks.pass();
          if (this.paused && !hooks.stopped()) {
            this.paused = false;
            this.between = true;
            try {
              hooks.settled();
            } finally {
              this.between = false;
            }
          }
        } while (this.again && !hooks.stopped());
        this.lastError = null;
      } catch (err) {
        const message = (err as Error).message;
        hooks.failed(err as Error, message === this.lastError);
        this.lastError = message;
      } finally {
        this.running = null;
      }
      if (!hooks.stopped()) hooks.settled();
    })();
    return this.running;
  }

  /** Waits for the check in progress, if any. */
  async finished(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
