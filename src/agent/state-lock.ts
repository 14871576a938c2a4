/**
 * One agent per state directory. The lock is flock(2) on the state directory
 * itself, held for the life of the process and released by the kernel when the
 * process ends, however it ends (kill -9 included).
 *
 * Node has no flock. The npm packages that offer one (fs-ext, fd-lock) are
 * native addons that must be compiled for each Node version; proper-lockfile is a
 * mkdir with an mtime that a killed process leaves behind until it goes stale.
 * So the lock is held by util-linux's flock(1) in a child process: it takes the
 * lock without waiting, says so, and holds it until its stdin closes. The agent
 * holds the other end of that pipe, and the kernel closes it when the agent dies,
 * so the child exits and the lock goes with it. The child runs in its own process
 * group, so a signal meant for the agent's group does not free the lock while the
 * agent is still writing its last checkpoint.
 *
 * The holder writes its pid to `lock` in the directory (best effort: a full or
 * read-only disk does not stop it from holding the lock), so that an agent
 * refused the lock can say which process holds it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RestoreWatcherError } from '../errors.js';
import { dirIdentity, type DirIdentity } from '../journal/durable-file.js';
import { sameFile } from '../tail/identity.js';

export const LOCK_FILE = 'lock';
/** flock(1)'s exit status when the lock is held by someone else (its --conflict-exit-code). */
const CONFLICT = 75;
const LOCKED = 'locked\n';

export interface StateLock {
  readonly dir: string;
  /** The directory locked (device and inode): another one at `dir` means it was deleted. */
  readonly identity: DirIdentity | null;
  /** Lets the lock go (the child exits); resolves when it has. */
  release(): Promise<void>;
}

/**
 * Creates the state directory if needed and takes its lock. Throws RW_STATE_LOCKED
 * when another process holds it, RW_STATE_DIR when the directory cannot be made or
 * locked at all. Reads and writes nothing else in the directory before the lock is held.
 */
export async function lockStateDir(dir: string): Promise<StateLock> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new RestoreWatcherError('RW_STATE_DIR', `state directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const child = spawn(
    'flock',
    ['--nonblock', '--conflict-exit-code', String(CONFLICT), dir, 'sh', '-c', `printf '${LOCKED.trim()}\\n'; exec cat >/dev/null`],
    { stdio: ['pipe', 'pipe', 'pipe'], detached: true },
  );
  const outcome = await new Promise<'locked' | { code: number | null; error?: Error; stderr: string }>((resolve) => {
    let out = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.startsWith(LOCKED)) resolve('locked');
    });
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', (error) => resolve({ code: null, error, stderr }));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
  if (outcome !== 'locked') {
    if (outcome.code === CONFLICT) {
      const holder = lockHolder(dir);
      throw new RestoreWatcherError(
        'RW_STATE_LOCKED',
        `state directory ${dir} is in use by another restore-watcher${holder !== null ? ` (pid ${holder})` : ''}; ` +
          'only one agent may use a state directory',
      );
    }
    const why =
      (outcome.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
        ? 'flock(1) from util-linux is not installed'
        : (outcome.error?.message ?? (outcome.stderr.trim() || `flock exited ${outcome.code}`));
    throw new RestoreWatcherError('RW_STATE_DIR', `state directory ${dir}: cannot lock it: ${why}`, { cause: outcome.error });
  }
  // The child's output is not needed any more; it must not keep the event loop alive.
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  try {
    writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n`, { mode: 0o644 });
  } catch {
    // A full or read-only state directory: the lock is held all the same; persistence reports the disk.
  }
  return { dir, identity: dirIdentity(dir), release: () => release(child) };
}

/**
 * Keeps the agent's lock on the state directory at its path, when the directory
 * is deleted while the agent runs (rm -rf). The lock was on the deleted
 * directory, so holding it says nothing about the one at the path now: before a
 * write, `check()` sees whether the locked directory is still the one there; if
 * not, it creates the directory and takes its lock again in the background, and
 * throws until it holds it. Another agent that took the new directory first keeps
 * it: this one is refused, says so (RW_STATE_LOCKED, naming the holder), writes
 * nothing, and tries again on the next write.
 */
export class StateDirKeeper {
  private retaking: Promise<void> | null = null;
  private refusal: Error | null = null;

  constructor(private lock: StateLock) {}

  /** Throws while the lock is not held on the directory now at the path; starts taking it again. */
  check(): void {
    if (sameFile(dirIdentity(this.lock.dir), this.lock.identity)) return;
    this.retaking ??= this.retake();
    throw (
      this.refusal ??
      Object.assign(new Error(`state directory ${this.lock.dir} was deleted; creating it and taking its lock again`), { code: 'ENOENT' })
    );
  }

  /** Lets the lock go, once a retake in progress has ended. */
  async release(): Promise<void> {
    await this.retaking;
    await this.lock.release();
  }

  private async retake(): Promise<void> {
    try {
      const old = this.lock;
      this.lock = await lockStateDir(old.dir);
      this.refusal = null;
      await old.release();
    } catch (err) {
      this.refusal = err as Error;
    } finally {
      this.retaking = null;
    }
  }
}


/** The pid written by the lock's holder, or null when it cannot be read. */
export function lockHolder(dir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function release(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // Unreferenced while held; waiting for it to end must keep the process alive.
    child.ref();
    child.once('exit', () => resolve());
    child.stdin!.end();
  });
}
