/**
 * The VM is recreated: the state directory and the log are new, and the agent's
 * ids start at 1 again. Before, a client resuming with the old Last-Event-ID was
 * told nothing (every new id was below its own) until the new agent passed it.
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { lineOfRestore, numberedLines } from '../helpers/lines.js';
import { events, expectExactly, kill9, place, startAgent, stopCleanly } from './agent.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('a lost state directory', () => {
  it('tells a resuming client that ids started again, and gives it the current story', async () => {
    const port = String(await freePort());
    const before = place();
    appendFileSync(before.log, numberedLines(1, 30));
    const first = startAgent(before, ['--port', port]);
    const url = await first.url;
    await expectExactly(url, 30);

    const watch = cli(['watch', '--url', url, '--json'], { env: { RESTORE_WATCHER_PASSWORD: '' } });
    let out = '';
    let err = '';
    watch.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    watch.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const shown = (): number[] =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { type: string; operation: { id: string } })
        .filter((e) => e.type === 'restore.failed')
        .map((e) => lineOfRestore(e.operation.id));
    await expect.poll(shown, { timeout: 10_000 }).toEqual([30]);

    await kill9(first);
    // A new VM: new log, new state directory, same address.
    const after = place();
    appendFileSync(after.log, numberedLines(101, 103));
    const second = startAgent(after, ['--port', port]);
    const secondUrl = await second.url;
    await expect.poll(async () => (await events(secondUrl)).map((e) => e.id), { timeout: 10_000 }).toEqual([1, 2, 3, 4, 5, 6]);
    await expect.poll(() => err, { timeout: 20_000 }).toMatch(/event ids started again/);
    await expect.poll(shown, { timeout: 10_000 }).toEqual([30, 103]);
    appendFileSync(after.log, numberedLines(104, 104));
    await expect.poll(shown, { timeout: 10_000 }).toEqual([30, 103, 104]);

    watch.kill('SIGTERM');
    await watch;
    await stopCleanly(second);
  });
});
