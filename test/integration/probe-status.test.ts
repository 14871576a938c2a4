import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceForTest, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';

let service: TestService;

const statusOf = async () => ((await (await fetch(`${service.url}/status`)).json()) as { postgresql: { state: string; output: string | null } }).postgresql;

describe('PostgreSQL readiness in /status and /', () => {
  it('follows a stand-in for pg_isready from not ready to ready', async () => {
    // pg_isready's contract: exit 0 "accepting connections", exit 2 "no response". The stand-in
    // answers from a flag file so the test decides when PostgreSQL "comes up".
    const dir = tempDir('rw-probe-');
    const flag = join(dir, 'up');
    const script = `const up = require("fs").existsSync(${JSON.stringify(flag)});
      console.log(up ? "127.0.0.1:5432 - accepting connections" : "127.0.0.1:5432 - no response");
      process.exit(up ? 0 : 2);`;
    service = await serviceForTest(
      { probe: { command: [process.execPath, '-e', script], intervalSeconds: 0.2, timeoutSeconds: 5 } },
      { dir },
    );
    await expect.poll(statusOf, { timeout: 5000 }).toMatchObject({ state: 'not-ready', output: '127.0.0.1:5432 - no response' });
    expect(await (await fetch(`${service.url}/`)).text()).toMatch(/^postgresql {4}not ready: 127\.0\.0\.1:5432 - no response/m);
    writeFileSync(flag, '');
    await expect.poll(statusOf, { timeout: 5000 }).toMatchObject({ state: 'ready', output: '127.0.0.1:5432 - accepting connections' });
    expect(await (await fetch(`${service.url}/`)).text()).toMatch(/^postgresql {4}ready: 127\.0\.0\.1:5432 - accepting connections/m);
  });

  it('reports a missing probe command as a state, and keeps serving', async () => {
    service = await serviceForTest({ probe: { command: ['/nonexistent/bin/pg_isready', '-q'], intervalSeconds: 0.2 } });
    await expect.poll(statusOf, { timeout: 5000 }).toMatchObject({ state: 'command-missing' });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('is off in /status when no probe is configured', async () => {
    service = await serviceForTest();
    expect(await statusOf()).toMatchObject({ state: 'off' });
  });
});
