import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * What logrotate does to a log, done in-process, step by step, so that a test can
 * act between the steps (the model-based test runs thousands of these). The
 * integration tests use the real logrotate binary through `logrotate()`.
 */
export const ROTATE = 7;

/** Moves `<log>.n[.gz]` to `.n+1` and deletes `.ROTATE`, as logrotate does before a rotation; returns what moved where. */
export function shiftCopies(log: string): Array<{ from: string | null; to: string | null }> {
  const moves: Array<{ from: string | null; to: string | null }> = [];
  for (let n = ROTATE; n >= 1; n--) {
    for (const ext of ['', '.gz']) {
      const from = `${log}.${n}${ext}`;
      if (!existsSync(from)) continue;
      if (n === ROTATE) {
        unlinkSync(from);
        moves.push({ from: `.${n}${ext}`, to: null });
      } else {
        renameSync(from, `${log}.${n + 1}${ext}`);
        moves.push({ from: `.${n}${ext}`, to: `.${n + 1}${ext}` });
      }
    }
  }
  return moves;
}

/** create mode: the log becomes `.1`, an empty log takes its place. */
export function renameRotate(log: string, create = true): void {
  renameSync(log, `${log}.1`);
  if (create) writeFileSync(log, '');
}

/** copytruncate, first half: the copy. */
export function copyStep(log: string): void {
  copyFileSync(log, `${log}.1`);
}

/** copytruncate, second half: the truncate. */
export function truncateStep(log: string): void {
  truncateSync(log, 0);
}

/** compress, first half: `.1.gz` written whole while `.1` still exists. */
export function gzipStep(log: string): void {
  writeFileSync(`${log}.1.gz`, gzipSync(readFileSync(`${log}.1`)));
}

/** compress, second half: `.1` removed. */
export function unlinkPlainStep(log: string): void {
  unlinkSync(`${log}.1`);
}

/** Runs the real logrotate on `log` with the given directives (forced), its state file beside the log. */
export function logrotate(log: string, directives: string[]): void {
  const dir = join(log, '..');
  const conf = join(dir, 'logrotate.conf');
  writeFileSync(conf, `${log} {\n${directives.map((d) => `  ${d}`).join('\n')}\n}\n`);
  execFileSync('logrotate', ['-s', join(dir, 'logrotate.state'), '-f', conf], { stdio: 'pipe' });
}

/** BOSH's settings for job logs. */
export const BOSH_DIRECTIVES = ['missingok', `rotate ${ROTATE}`, 'compress', 'copytruncate', 'size=1'];
