/**
 * The whole state directory deleted while the agent runs (rm -rf). Before, the
 * agent reported ENOENT on every checkpoint for as long as it ran, never wrote
 * again, and the lock it held was on the deleted directory, so a second agent
 * could take the new one unnoticed.
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberedLines } from '../helpers/lines.js';
import { expectExactly, expectNoStackTrace, json, kill9, logLines, place, startAgent, stopCleanly } from './agent.js';

interface Health {
  ok: boolean;
  reason?: string;
}

describe('the state directory deleted while the agent runs', () => {
  it('is made again with the lock taken again, and what was pending is written exactly once', async () => {
    const p = place();
    appendFileSync(p.log, numberedLines(1, 20));
    let agent = startAgent(p);
    const url = await agent.url;
    await expectExactly(url, 20);

    rmSync(p.stateDir, { recursive: true, force: true });
    appendFileSync(p.log, numberedLines(21, 40));
    // Served all along, from the open journal segment and memory.
    await expectExactly(url, 40);
    // Not ok once (the directory is gone), ok again once it is made, locked and written.
    await expect.poll(() => logLines(agent, /state directory writable again/).length, { timeout: 15_000 }).toBe(1);
    const failed = logLines(agent, /cannot write the state directory/);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(String(failed[0]!.err)).toMatch(/^ENOENT: state directory .* was deleted/);
    expect((await json<Health>(`${url}/healthz`)).body).toEqual(expect.objectContaining({ ok: true }));
    expect(readFileSync(join(p.stateDir, 'lock'), 'utf8').trim()).toBe(String(agent.child.pid));
    expect(existsSync(join(p.stateDir, 'checkpoint.json'))).toBe(true);

    // What is on disk now is a consistent pair: a kill -9 loses and repeats nothing.
    await kill9(agent);
    appendFileSync(p.log, numberedLines(41, 50));
    agent = startAgent(p);
    await expectExactly(await agent.url, 50);
    expectNoStackTrace(agent);
    await stopCleanly(agent);
  });

  it('is left to a second agent that took the new directory first, and taken back once that one ends', async () => {
    const p = place();
    appendFileSync(p.log, numberedLines(1, 20));
    let first = startAgent(p);
    const url = await first.url;
    await expectExactly(url, 20);

    // The log is idle: the first agent has no reason to write before the second starts.
    rmSync(p.stateDir, { recursive: true, force: true });
    const second = startAgent(p);
    const secondUrl = await second.url;
    await expectExactly(secondUrl, 20);
    appendFileSync(p.log, numberedLines(21, 30));
    await expectExactly(url, 30);
    await expectExactly(secondUrl, 30);
    // The first one serves from memory, writes nothing, and says who holds the directory.
    await expect
      .poll(async () => (await json<Health>(`${url}/healthz`)).body.reason ?? '', { timeout: 10_000 })
      .toMatch(new RegExp(`in use by another restore-watcher \\(pid ${second.child.pid}\\)`));
    expect(readFileSync(join(p.stateDir, 'lock'), 'utf8').trim()).toBe(String(second.child.pid));

    await stopCleanly(second);
    // Backoff is at most 30 s; it doubles from 1 s, and this wait is a few seconds of it.
    await expect.poll(async () => (await json<Health>(`${url}/healthz`)).status, { timeout: 45_000, interval: 200 }).toBe(200);
    expect(readFileSync(join(p.stateDir, 'lock'), 'utf8').trim()).toBe(String(first.child.pid));
    await kill9(first);
    appendFileSync(p.log, numberedLines(31, 35));
    first = startAgent(p);
    await expectExactly(await first.url, 35);
    expectNoStackTrace(first);
    await stopCleanly(first);
  }, 90_000);
});
