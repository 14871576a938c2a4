/**
 * bpm stops the agent with SIGTERM at any moment, also while it reads a long log
 * for the first time. Before, a SIGTERM then killed the process by the signal
 * (no handler was installed yet) instead of a clean exit.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { numberedLines } from '../helpers/lines.js';
import { expectExactly, expectNoStackTrace, logLines, place, startAgent, stopCleanly } from './agent.js';

describe('SIGTERM', () => {
  it('during the first read of a long log exits 0 within 5 s, and the next start reads on', async () => {
    const p = place();
    // 150 MB of lines the tracker reads but makes no event of, then the numbered ones.
    const filler = Buffer.from('10.0.0.9 - - [20/Nov/2018:00:00:00 +0000] "GET /v1/status HTTP/1.1" 200 2 0.0010\n'.repeat(20_000));
    writeFileSync(p.log, '');
    for (let i = 0; i < 90; i++) appendFileSync(p.log, filler);
    appendFileSync(p.log, numberedLines(1, 10));
    const agent = startAgent(p);
    await expect.poll(() => logLines(agent, /^state loaded$/).length, { timeout: 20_000 }).toBe(1);
    const sent = Date.now();
    agent.child.kill('SIGTERM');
    const r = await agent.child;
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(logLines(agent, /restore-watcher listening/), 'the first read was still going on').toHaveLength(0);
    expect(r.signal ?? null).toBeNull();
    expect(r.exitCode).toBe(0);
    expectNoStackTrace(agent);

    const next = startAgent(p);
    await expectExactly(await next.url, 10, 60_000);
    await stopCleanly(next);
  }, 120_000);
});
