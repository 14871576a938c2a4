/**
 * The agent runs out of file descriptors: its open-files limit is lowered under
 * it (util-linux prlimit) to the lowest descriptor number free, so that every
 * open(2) it makes fails with EMFILE, while what it holds open stays usable. It
 * must keep following and serving (over a connection made before), say why it is
 * not ok, and once the limit is raised write what was pending exactly once.
 */
import { appendFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { describe, expect, it } from 'vitest';
import { numberedLines } from '../helpers/lines.js';
import { haveTool } from '../helpers/tools.js';
import { expectExactly, expectNoStackTrace, json, kill9, logLines, place, startAgent, stopCleanly, type GetJson } from './agent.js';

/** GETs over one kept-alive connection: it needs no new descriptor in the agent. */
function overOneConnection(): { get: GetJson; close(): void } {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const get: GetJson = <T,>(url: string) =>
    new Promise<{ status: number; body: T }>((resolve, reject) => {
      httpGet(url, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
        res.on('error', reject);
      }).on('error', reject);
    });
  return { get, close: () => agent.destroy() };
}

/**
 * The lowest descriptor number `pid` has free, not counting the ones a state write
 * holds for a moment (a temp file, the directory for its fsync): with the limit
 * there, no open(2) succeeds once they are closed.
 */
function lowestFree(pid: number, stateDir: string): number {
  const used = new Set<number>();
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target === stateDir || (target.startsWith(stateDir) && target.endsWith('.tmp'))) continue;
    used.add(Number(name));
  }
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

/** Sets `pid`'s soft open-files limit to its lowest free descriptor. */
function starve(pid: number, stateDir: string): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${lowestFree(pid, stateDir)}:1024`]);
}

describe.skipIf(!haveTool('prlimit', 'util-linux'))('out of file descriptors (EMFILE)', () => {
  it('keeps following and serving, says why it is not ok, and writes what was pending once the limit is raised', async () => {
    const p = place();
    appendFileSync(p.log, numberedLines(1, 20));
    let agent = startAgent(p);
    const url = await agent.url;
    // Every request over one connection: no other client socket holds a descriptor that closes later.
    const kept = overOneConnection();
    await expectExactly(url, 20, 15_000, kept.get);
    expect((await kept.get(`${url}/healthz`)).status).toBe(200);

    const pid = agent.child.pid!;
    starve(pid, p.stateDir);
    appendFileSync(p.log, numberedLines(21, 40));
    // Followed and served all along, over the connection it already had.
    await expectExactly(url, 40, 15_000, kept.get);
    await expect.poll(async () => (await kept.get<{ reason?: string }>(`${url}/healthz`)).body.reason ?? '', { timeout: 10_000 }).toMatch(/^state directory not writable: EMFILE/);
    expect((await kept.get(`${url}/healthz`)).status).toBe(503);
    expect(logLines(agent, /cannot write the state directory/)).toHaveLength(1);

    execFileSync('prlimit', ['--pid', String(pid), '--nofile=1024:1024']);
    kept.close();
    await expect.poll(async () => (await json(`${url}/healthz`)).status, { timeout: 45_000, interval: 200 }).toBe(200);
    expect(logLines(agent, /state directory writable again/)).toHaveLength(1);
    expect(agent.child.exitCode).toBeNull();

    // What is on disk is exact: a kill -9 now loses and repeats nothing.
    await kill9(agent);
    expectNoStackTrace(agent);
    appendFileSync(p.log, numberedLines(41, 50));
    agent = startAgent(p);
    await expectExactly(await agent.url, 50);
    await stopCleanly(agent);
  }, 90_000);
});
