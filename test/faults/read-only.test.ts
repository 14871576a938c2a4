/**
 * The state directory becomes read-only for the agent (permissions changed under
 * it; the agent runs unprivileged, as under bpm), then writable again. Before,
 * the agent crashed on the first refused write.
 */
import { appendFileSync, chmodSync, chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nobodyReachesCheckout } from '../helpers/tools.js';
import { numberedLines } from '../helpers/lines.js';
import { expectExactly, expectNoStackTrace, json, kill9, logLines, needs, place, startAgent, stopCleanly } from './agent.js';

const NOBODY = 65534;

function writable(dir: string, yes: boolean): void {
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), yes ? 0o600 : 0o400);
  chmodSync(dir, yes ? 0o700 : 0o500);
}

describe.skipIf(!needs(process.getuid?.() === 0, 'permission faults need root (to chown the state directory and run the agent as nobody)') || !nobodyReachesCheckout())('a read-only state directory', () => {
  it('keeps serving while read-only, starts on it, and writes what was pending once it is writable', async () => {
    const p = place();
    chmodSync(p.dir, 0o755);
    mkdirSync(p.stateDir);
    chownSync(p.stateDir, NOBODY, NOBODY);
    appendFileSync(p.log, numberedLines(1, 10));
    chmodSync(p.log, 0o644);
    let agent = startAgent(p, [], { asNobody: true });
    let url = await agent.url;
    await expectExactly(url, 10);

    writable(p.stateDir, false);
    appendFileSync(p.log, numberedLines(11, 30));
    await expectExactly(url, 30);
    await expect.poll(async () => (await json<{ reason?: string }>(`${url}/healthz`)).body.reason, { timeout: 10_000 }).toMatch(
      /EACCES/,
    );
    expect(logLines(agent, /cannot write the state directory/)).toHaveLength(1);

    // Restarted on the read-only directory: it reads its journal and the log, serves, and is not ok.
    await stopCleanly(agent);
    agent = startAgent(p, [], { asNobody: true });
    url = await agent.url;
    await expectExactly(url, 30);
    expect((await json(`${url}/healthz`)).status).toBe(503);

    writable(p.stateDir, true);
    await expect.poll(async () => (await json(`${url}/healthz`)).status, { timeout: 15_000 }).toBe(200);
    await kill9(agent);
    appendFileSync(p.log, numberedLines(31, 40));
    agent = startAgent(p, [], { asNobody: true });
    await expectExactly(await agent.url, 40);
    expectNoStackTrace(agent);
    await stopCleanly(agent);
  });
});
