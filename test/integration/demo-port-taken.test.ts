import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoService } from '../../src/commands/demo.js';
import { parseConfig } from '../../src/config.js';
import type { RunningService } from '../../src/service.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

/** A port held by something else for the length of the test. */
async function takenPort(): Promise<number> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  return (holder.address() as { port: number }).port;
}

function demoConfig(port: number) {
  const dir = mkdtempSync(join(tmpdir(), 'rw-demo-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'production.log'), '');
  return parseConfig({ log: { path: join(dir, 'production.log') }, http: { host: '127.0.0.1', port }, stateDir: join(dir, 'state') });
}

describe('demo when its port is taken', () => {
  it('serves on another port and says so', async () => {
    const port = await takenPort();
    const said: string[] = [];
    const service: RunningService = await startDemoService(demoConfig(port), {
      logger: pino({ level: 'silent' }),
      portChosen: false,
      say: (text) => said.push(text),
    });
    cleanup.push(() => service.close());
    expect(service.port).not.toBe(port);
    expect(said).toEqual([`port ${port} is taken (another restore-watcher?); serving on ${service.port} instead`]);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('fails as serve does when the port was chosen with --port', async () => {
    const port = await takenPort();
    const said: string[] = [];
    await expect(
      startDemoService(demoConfig(port), { logger: pino({ level: 'silent' }), portChosen: true, say: (text) => said.push(text) }),
    ).rejects.toMatchObject({ code: 'RW_LISTEN_FAILED' });
    expect(said).toEqual([]);
  });
});
