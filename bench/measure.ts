/**
 * Runs a command the way a shell would (`cmd args > out`) and measures it: wall
 * time from spawn to exit, and the peak resident set size of the process. Peak
 * RSS comes from GNU time (`/usr/bin/time -f %M`, Debian package `time`) when it
 * is installed, otherwise from polling the child's VmHWM in /proc, which is the
 * same kernel counter read while the process lives.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

export interface Measured {
  wallMs: number;
  /** Peak resident set size in bytes; null if it could not be read. */
  peakRssBytes: number | null;
  /** User plus system CPU time in ms (GNU time only); null without it. */
  cpuMs: number | null;
  exitCode: number | null;
  /** The first 64 KiB of stdout, when it was captured. */
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Where stdout goes: '/dev/null' (the default) or 'capture'. */
  stdout?: '/dev/null' | 'capture';
  /** Scratch directory for GNU time's report. */
  workDir: string;
  /** Kill the command after this long (bounded runs, whatever happens). */
  timeoutMs?: number;
}

export function rssSource(): string {
  return existsSync(GNU_TIME) ? 'GNU time (%M)' : '/proc/PID/status VmHWM, polled every 5 ms';
}

/** Whether `measure` reports CPU time (it needs GNU time). */
export const hasCpuTime = (): boolean => existsSync(GNU_TIME);

let sequence = 0;

export async function measure(command: string, args: string[], options: RunOptions): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const report = join(options.workDir, `time-${process.pid}-${sequence++}.txt`);
  const [cmd, argv] = useTime ? [GNU_TIME, ['-f', '%M %U %S', '-o', report, command, ...args]] : [command, args];
  const devNull = options.stdout === 'capture' ? null : openSync('/dev/null', 'w');
  const started = performance.now();
  const child = spawn(cmd, argv, { stdio: ['ignore', devNull ?? 'pipe', 'pipe'] });
  if (devNull !== null) closeSync(devNull);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => {
    if (stdout.length < 65536) stdout += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    if (stderr.length < 65536) stderr += b.toString();
  });
  let polledHwm: number | null = null;
  const poll = useTime
    ? null
    : setInterval(() => {
        const hwm = vmHwm(child.pid);
        if (hwm !== null) polledHwm = Math.max(polledHwm ?? 0, hwm);
      }, 5);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const wallMs = performance.now() - started;
  clearTimeout(timer);
  if (poll !== null) clearInterval(poll);
  let peakRssBytes: number | null = polledHwm;
  let cpuMs: number | null = null;
  if (useTime) {
    // The last line; a command killed by a signal gets a line about that before it.
    const [kb, user, system] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    peakRssBytes = Number.isFinite(kb) ? kb! * 1024 : null;
    cpuMs = Number.isFinite(user) && Number.isFinite(system) ? (user! + system!) * 1000 : null;
    rmSync(report, { force: true });
  }
  return { wallMs, peakRssBytes, cpuMs, exitCode, stdout, stderr };
}

/** The kernel's high-water mark of a live process's resident set, in bytes. */
export const vmHwm = (pid: number | undefined): number | null => procStatusBytes(pid, 'VmHWM');

/** User plus system CPU time a live process has used so far, in ms (/proc/PID/stat counts in USER_HZ, 100 a second). */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null; // the process has already exited
  }
}

/** The current resident set of a live process, in bytes. */
export const vmRss = (pid: number | undefined): number | null => procStatusBytes(pid, 'VmRSS');

function procStatusBytes(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  if (pid === undefined) return null;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null; // the process has already exited
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value below which `p` percent of the values lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export const mb = (bytes: number | null): string => (bytes === null ? 'n/a' : (bytes / (1024 * 1024)).toFixed(1));
