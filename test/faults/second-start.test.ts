/**
 * Two agents on one state directory: the second must touch nothing and name the
 * first. Before the lock, a second `serve` that failed to listen rewrote the
 * running agent's checkpoint with no position, and after the first one's next
 * crash every event was reported again.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberedLines } from '../helpers/lines.js';
import { expectExactly, expectNoStackTrace, kill9, place, startAgent, stopCleanly } from './agent.js';

describe('a second agent on the same state directory', () => {
  it('is refused with the holder named, writes nothing, and the lock goes with a kill -9', async () => {
    const p = place();
    appendFileSync(p.log, numberedLines(1, 20));
    const first = startAgent(p);
    const url = await first.url;
    await expectExactly(url, 20);
    const checkpoint = readFileSync(join(p.stateDir, 'checkpoint.json'));

    // Same state directory, the same port as the running one (in use), and a free one.
    const port = new URL(url).port;
    for (const args of [['--port', port], []]) {
      const second = startAgent(p, args);
      const r = await second.child;
      expect(r.exitCode).toBe(75);
      expect(second.stderr()).toContain(`in use by another restore-watcher (pid ${first.child.pid})`);
      expectNoStackTrace(second);
    }
    expect(readFileSync(join(p.stateDir, 'checkpoint.json'))).toEqual(checkpoint);

    // The kernel lets the lock go with the killed process: the next one starts, and reports nothing twice.
    appendFileSync(p.log, numberedLines(21, 30));
    await expectExactly(url, 30);
    await kill9(first);
    appendFileSync(p.log, numberedLines(31, 40));
    const third = startAgent(p);
    await expectExactly(await third.url, 40);
    await stopCleanly(third);
  });
});
