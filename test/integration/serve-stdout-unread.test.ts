/**
 * The agent's own log goes to stdout, which bpm reads through a pipe. A reader that
 * stops reading must not stop the agent: once the pipe is full, the agent goes on
 * following the log and answering, keeps at most its bound of unwritten lines and
 * counts the ones it drops (/metrics). Run as the BOSH job runs it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asDeployed } from '../helpers/as-deployed.js';
import { BIN } from '../helpers/cli.js';
import { numberedLines } from '../helpers/lines.js';
import { tempDir } from '../helpers/temp.js';

/** Refused restores, two events each, each logged as a line of about 300 bytes: megabytes of the agent's log, far past the pipe's 64 KiB. */
const LINES = 6000;

describe('serve whose stdout nobody reads', () => {
  it('catches up, answers and counts the log lines it drops instead of waiting for the reader', async () => {
    const dir = tempDir('rw-stdout-unread-');
    const log = join(dir, 'production.log');
    writeFileSync(log, numberedLines(1, LINES));
    const args = ['serve', '--log', log, '--port', '0', '--state-dir', join(dir, 'state'), '--log-format', 'json'];
    // stdout is a pipe nobody reads from: nothing listens for its data, so it fills and stays full.
    const child = spawn('sh', asDeployed(BIN, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      await expect.poll(() => /serving (http:\/\/127\.0\.0\.1:\d+)/.test(stderr), { timeout: 20_000 }).toBe(true);
      const url = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!;
      const status = (await (await fetch(`${url}/status`)).json()) as { follower: { caughtUp: boolean }; lastEventId: number };
      expect(status).toMatchObject({ follower: { caughtUp: true }, lastEventId: 2 * LINES });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const dropped = Number(/^restore_watcher_log_output_dropped_lines_total (\d+)$/m.exec(metrics)?.[1]);
      expect(dropped).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
