/**
 * monit or bpm may SIGKILL the agent at any moment. The real `serve` process is
 * killed while lines are being written and the log is rotated; the last one started
 * must have every line's event exactly once, with ids 1..n.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { lineOfRestore, numberedLines, upTo } from '../helpers/lines.js';
import { waitForOutput } from '../helpers/output.js';
import { BOSH_DIRECTIVES, logrotate } from '../helpers/rotate.js';
import { tempDir } from '../helpers/temp.js';
import { haveTool } from '../helpers/tools.js';

interface Event {
  type: string;
  id: number;
  operation: { id: string };
}

function serve(dir: string) {
  const child = cli(['serve', '--config', join(dir, 'config.json'), '--port', '0', '--state-dir', join(dir, 'state')]);
  const url = waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/).then(([, u]) => u!);
  return { child, url };
}

async function events(url: string): Promise<Event[]> {
  return ((await (await fetch(`${url}/events?limit=10000`)).json()) as { events: Event[] }).events;
}

describe.skipIf(!haveTool('logrotate', 'logrotate'))('kill -9 while following', () => {
  it('neither loses nor repeats an event across SIGKILLs and a rotation', async () => {
    const dir = tempDir('rw-kill-');
    const log = join(dir, 'production.log');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ log: { path: log, pollIntervalMs: 20 }, journal: { checkpointIntervalMs: 50 } }));
    let n = 0;
    for (let round = 0; round < 4; round++) {
      const { child, url } = serve(dir);
      const base = await url;
      const target = n + 30;
      // Lines arrive while the agent reads, checkpoints and journals; the kill lands somewhere in that.
      while (n < target) {
        appendFileSync(log, numberedLines(n + 1, n + 3));
        n += 3;
        if (round === 2 && n === target - 15) logrotate(log, BOSH_DIRECTIVES);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await expect.poll(async () => (await events(base)).length, { timeout: 10_000 }).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
    const { child, url } = serve(dir);
    const base = await url;
    // Each line is a refused restore: requested, then failed.
    await expect.poll(async () => (await events(base)).length, { timeout: 15_000 }).toBe(2 * n);
    const all = await events(base);
    expect(all.filter((e) => e.type === 'restore.failed').map((e) => lineOfRestore(e.operation.id))).toEqual(upTo(n));
    expect(all.map((e) => e.id)).toEqual(upTo(2 * n));
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  }, 60_000);
});
