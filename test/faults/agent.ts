/**
 * The real agent process, run as the BOSH job runs it: `serve` under bash with
 * `ulimit -n 1024` and the job's node flags, stdout (its JSON log) consumed.
 * Fault scenarios start it, hurt it, and count what it serves.
 */
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { asDeployed } from '../helpers/as-deployed.js';
import { BIN } from '../helpers/cli.js';
import { lineOfRestore } from '../helpers/lines.js';

/** The command run: this checkout's, or another build's (RESTORE_WATCHER_BIN), to show how it fared. */
const COMMAND = process.env.RESTORE_WATCHER_BIN ?? BIN;

export interface Place {
  dir: string;
  log: string;
  stateDir: string;
  config: string;
}

/** A temp directory with a log path and a config; the state directory defaults to `<dir>/state`. */
export function place(stateDir?: string): Place {
  const dir = mkdtempSync(join(tmpdir(), 'rw-fault-'));
  const log = join(dir, 'production.log');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ log: { path: log, pollIntervalMs: 20 }, journal: { checkpointIntervalMs: 50 } }));
  return { dir, log, stateDir: stateDir ?? join(dir, 'state'), config };
}

export interface AgentRun {
  child: ResultPromise;
  /** Resolves with the URL from the listen message; rejects if the process ends first. */
  url: Promise<string>;
  /** Everything written to stderr and stdout so far. */
  stderr(): string;
  stdout(): string;
}

/** Starts `serve` on the place; `asNobody` runs it as the unprivileged user (util-linux setpriv), for permission faults. */
export function startAgent(p: Place, args: string[] = [], options: { asNobody?: boolean } = {}): AgentRun {
  const serve = ['serve', '--config', p.config, '--port', '0', '--state-dir', p.stateDir, ...args];
  const user = options.asNobody === true ? 'setpriv --reuid=nobody --regid=nogroup --clear-groups ' : '';
  const child = execa('sh', asDeployed(COMMAND, serve, user), {
    reject: false,
    env: { RESTORE_WATCHER_PASSWORD: '' },
  });
  let err = '';
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /serving (https?:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void child.then((r) => reject(new Error(`serve exited ${r.exitCode ?? r.signal}: ${err}`)));
  });
  url.catch(() => undefined);
  return { child, url, stderr: () => err, stdout: () => out };
}

export interface Event {
  id: number;
  type: string;
  operation: { id: string };
}

/** A GET answered as JSON: by default a new connection each time (fetch). */
export type GetJson = <T = Record<string, unknown>>(url: string) => Promise<{ status: number; body: T }>;

export async function events(url: string, get: GetJson = json): Promise<Event[]> {
  return (await get<{ events: Event[] }>(`${url}/events?limit=10000`)).body.events;
}

export async function json<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

/**
 * Every numbered line 1..n served exactly once. Each line is a refused restore,
 * which is told as two events (`restore.requested`, then `restore.failed`): the
 * verdict names the line, and the ids run 1..2n without a gap.
 */
export async function expectExactly(url: string, n: number, timeout = 15_000, get: GetJson = json): Promise<void> {
  await expect.poll(async () => (await events(url, get)).length, { timeout }).toBe(2 * n);
  const all = await events(url, get);
  const lines = verdicts(all).map((e) => lineOfRestore(e.operation.id));
  expect(lines, 'lines lost or duplicated').toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(all.map((e) => e.id)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
}

/** The events that end a numbered line's restore: one per line. */
export function verdicts<E extends { type?: string }>(all: readonly E[]): E[] {
  return all.filter((e) => e.type === 'restore.failed');
}

export async function kill9(run: AgentRun): Promise<void> {
  run.child.kill('SIGKILL');
  await run.child;
}

/** Stops with SIGTERM and checks a clean exit: code 0, no stack trace. */
export async function stopCleanly(run: AgentRun): Promise<void> {
  run.child.kill('SIGTERM');
  const r = await run.child;
  expectNoStackTrace(run);
  expect(r.signal ?? null).toBeNull();
  expect(r.exitCode).toBe(0);
}

export function expectNoStackTrace(run: AgentRun): void {
  expect(run.stderr()).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stdout()).not.toMatch(/"stack":/);
}

/** Log lines (the agent's JSON log on stdout) whose message matches. */
export function logLines(run: AgentRun, msg: RegExp): Record<string, unknown>[] {
  return run
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l.msg === 'string' && msg.test(l.msg));
}

/** Skips (with a message) or, under CI=true, fails when a scenario's precondition is missing. */
export function needs(have: boolean, what: string): boolean {
  if (have) return true;
  if (process.env.CI === 'true') throw new Error(`${what} (CI=true: a skipped fault scenario fails the run)`);
  console.warn(`skipping: ${what}`);
  return false;
}

/**
 * A small tmpfs of its own, for a disk that fills up or turns read-only. Mounting
 * needs privileges: where it is refused the scenario is skipped with a message,
 * and under CI=true that fails the run.
 */
export function tmpfs(size: string): { dir: string; remount(mode: 'ro' | 'rw'): void; unmount(): void } | null {
  const dir = mkdtempSync(join(tmpdir(), 'rw-tmpfs-'));
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    needs(false, `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]}): run as root where mount is permitted`);
    return null;
  }
  return {
    dir,
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]),
    unmount: () => execFileSync('umount', ['-l', dir]),
  };
}

/** Fills the file system holding `dir` with a file until it refuses (ENOSPC); returns the file. */
export function fill(dir: string): string {
  const file = join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd stops with an error when the disk is full: that is the point.
  }
  return file;
}
