/**
 * A flood of idle TCP connections, more than the agent's file descriptors, must
 * not take it down or keep /healthz out. The agent runs as the BOSH job runs it:
 * `ulimit -n 1024`, the job's node flags, stdout read through a pipe. Another
 * process holds 1,100 connections open that never send a byte, opening a new one
 * whenever one is closed.
 */
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asDeployed } from '../helpers/as-deployed.js';
import { BIN } from '../helpers/cli.js';
import { access } from '../helpers/lines.js';
import { waitForOutput } from '../helpers/output.js';
import { tempDir } from '../helpers/temp.js';

const FLOOD = 1100;

/** Keeps `count` idle connections to the port open; prints how many are open every 100 ms. */
const FLOODER = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
let open = 0, opened = 0;
function one() {
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('connect', () => { open++; opened++; });
  s.on('error', () => undefined);
  s.on('close', (hadError) => { open = Math.max(0, open - 1); setTimeout(one, 5); });
}
for (let i = 0; i < count; i++) one();
setInterval(() => process.stdout.write(JSON.stringify({ open, opened }) + '\\n'), 100);
`;

const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** GET /healthz on a fresh connection; the status, or 0 when no answer came. */
function healthz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('a flood of idle connections', () => {
  it('neither crashes the agent under ulimit -n 1024 nor keeps /healthz out', async () => {
    const dir = tempDir('rw-flood-');
    const log = join(dir, 'production.log');
    writeFileSync(log, `${access('12:00:00', '/v1/restore')}\n`);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ log: { path: log }, stateDir: join(dir, 'state'), http: { port: 0 } }));
    const agent = execa('sh', asDeployed(BIN, ['serve', '--config', `${dir}/config.json`]), {
      reject: false,
      env: { RESTORE_WATCHER_PASSWORD: '' },
    });
    children.push(agent);
    let stdoutBytes = 0;
    agent.stdout?.on('data', (b: Buffer) => (stdoutBytes += b.length));
    const port = Number((await waitForOutput(agent, /serving http:\/\/127\.0\.0\.1:(\d+)/))[1]);

    const flooder = execa(process.execPath, ['-e', FLOODER, String(port), String(FLOOD)], { reject: false });
    children.push(flooder);
    let latest = { open: 0, opened: 0 };
    flooder.stdout?.on('data', (b: Buffer) => {
      const lines = b.toString().trim().split('\n');
      latest = JSON.parse(lines.at(-1)!) as typeof latest;
    });
    // Every one of the 1,100 was accepted at some point, more than the agent has descriptors for.
    await expect.poll(() => latest.opened, { timeout: 30_000 }).toBeGreaterThanOrEqual(FLOOD);
    await expect.poll(() => healthz(port), { timeout: 20_000 }).toBe(200);
    // And again while the flood goes on: it is not a lucky moment.
    const later = latest.opened;
    await expect.poll(() => latest.opened, { timeout: 20_000 }).toBeGreaterThan(later);
    await expect.poll(() => healthz(port), { timeout: 20_000 }).toBe(200);
    expect(agent.exitCode).toBeNull();
    expect(stdoutBytes).toBeGreaterThan(0);

    flooder.kill('SIGKILL');
    agent.kill('SIGTERM');
    const result = await agent;
    expect(result.exitCode).toBe(0);
  }, 90_000);
});
