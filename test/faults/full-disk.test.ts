/**
 * The state directory's disk fills up during a restore (the ephemeral disk), and
 * later has room again. Before, the first refused write crashed the agent with a
 * stack trace, and every restart on the full disk crashed again.
 */
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { numberedLines } from '../helpers/lines.js';
import { expectExactly, expectNoStackTrace, fill, json, kill9, logLines, place, startAgent, stopCleanly, tmpfs } from './agent.js';

const disk = tmpfs('512k');

describe.skipIf(disk === null)('a full state directory disk', () => {
  afterAll(() => disk?.unmount());

  it('keeps following and serving, says so once, survives kill -9 and restarts while full, and catches up exactly once', async () => {
    const p = place(join(disk!.dir, 'state'));
    appendFileSync(p.log, numberedLines(1, 20));
    let agent = startAgent(p);
    let url = await agent.url;
    await expectExactly(url, 20);
    expect((await json(`${url}/healthz`)).body).toMatchObject({ ok: true });

    const filler = fill(disk!.dir);
    appendFileSync(p.log, numberedLines(21, 60));
    // Still following and serving, from memory.
    await expectExactly(url, 60);
    await expect.poll(async () => (await json(`${url}/healthz`)).status, { timeout: 10_000 }).toBe(503);
    const health = (await json<{ ok: boolean; reason: string }>(`${url}/healthz`)).body;
    expect(health.ok).toBe(false);
    expect(health.reason).toMatch(/ENOSPC/);
    const status = (await json<{ persistence: { ok: boolean; error: string; since: string } }>(`${url}/status`)).body;
    expect(status.persistence).toMatchObject({ ok: false, error: expect.stringMatching(/^ENOSPC/) });
    expect(Date.parse(status.persistence.since)).not.toBeNaN();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^restore_watcher_persistence_ok 0$/m);
    appendFileSync(p.log, numberedLines(61, 70));
    await expectExactly(url, 70);
    // One line for the failure, not one per attempt.
    expect(logLines(agent, /cannot write the state directory/)).toHaveLength(1);

    // Killed while the disk is full, and started again on it: it serves, and says why it is not ok.
    await kill9(agent);
    appendFileSync(p.log, numberedLines(71, 80));
    agent = startAgent(p);
    url = await agent.url;
    await expectExactly(url, 80);
    expect((await json(`${url}/healthz`)).status).toBe(503);

    // Room again: what was pending is written, and a kill -9 then loses and repeats nothing.
    rmSync(filler);
    await expect.poll(async () => (await json(`${url}/healthz`)).status, { timeout: 15_000 }).toBe(200);
    expect(logLines(agent, /state directory writable again/)).toHaveLength(1);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^restore_watcher_persistence_ok 1$/m);
    await kill9(agent);
    appendFileSync(p.log, numberedLines(81, 90));
    agent = startAgent(p);
    await expectExactly(await agent.url, 90);
    expectNoStackTrace(agent);
    await stopCleanly(agent);
  });
});
