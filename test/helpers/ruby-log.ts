import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { haveTool } from './tools.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/a9s-log.rb', import.meta.url));

/** One step of a backup-agent log (see scripts/a9s-log.rb): a request through Rack::CommonLogger or a Logger message. */
export type LogStep =
  | { at: string; request: string; status?: number; from?: string }
  | { at: string; log: string; severity?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL' };

/** Whether ruby and ruby-rack are installed (skips with the package named, fails under CI=true). */
export function haveRubyRack(): boolean {
  if (!haveTool('ruby', 'ruby')) return false;
  try {
    execFileSync('ruby', ['-e', 'require "rack"'], { stdio: 'ignore' });
    return true;
  } catch {
    const message = 'ruby-rack is not installed: apt-get install ruby-rack';
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing tool fails the run)`);
    console.warn(`skipping tests that need ${message}`);
    return false;
  }
}

/** Appends `steps` to `file`, written by Ruby's Logger and Rack::CommonLogger. */
export async function appendRubyLog(file: string, steps: LogStep[]): Promise<void> {
  await execa('ruby', [SCRIPT, file], { input: JSON.stringify(steps) });
}

/** The steps of one a9s-pg backup: requested at `at`, named by its id (the creation time), ended after `seconds`. */
export function backupSteps(at: Date, seconds: number, outcome: 'success' | 'failure' = 'success'): LogStep[] {
  const t = (s: number): string => new Date(at.getTime() + s * 1000).toISOString();
  return [
    { at: t(0), request: 'POST /v1/backup' },
    { at: t(1), request: 'POST /v1/order', from: '172.28.19.51' },
    { at: t(2), log: `pg_basebackup started for a9s-pg-${at.getTime() + 350}` },
    { at: t(seconds / 2), log: 'uploading 44985152 bytes to the backup store' },
    outcome === 'success' ? { at: t(seconds), log: 'success' } : { at: t(seconds), log: 'upload failed: 503', severity: 'ERROR' },
  ];
}

/** The steps of one restore requested at `at`: of `backupId` if given, ended after `seconds` (null: still running). */
export function restoreSteps(at: Date, seconds: number | null, backupId: string | null, running = 60): LogStep[] {
  const t = (s: number): string => new Date(at.getTime() + s * 1000).toISOString();
  const steps: LogStep[] = [
    { at: t(0), request: 'POST /v1/restore' },
    { at: t(1), request: 'POST /v1/order', from: '172.28.19.51' },
    { at: t(5), log: backupId !== null ? `downloading backup ${backupId}` : 'downloading backup' },
    { at: t(Math.min(running, seconds ?? running) * 0.5), log: 'stopping postgresql' },
    { at: t(Math.min(running, seconds ?? running) * 0.6), log: 'restoring base backup' },
  ];
  if (seconds !== null) steps.push({ at: t(seconds - 1), log: 'starting postgresql' }, { at: t(seconds), log: 'success' });
  return steps;
}
