import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runClusterWatch } from '../../src/watch/cluster.js';
import { nodeTransport } from '../../src/watch/transport.js';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SLOW } from '../helpers/watch.js';

const services: TestService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose();
});

/** A terminal that keeps what was written to it. */
function terminal() {
  const writes: string[] = [];
  const stdout = { columns: 150, write: (t: string) => writes.push(t) > 0, on: () => stdout, off: () => stdout } as unknown as NodeJS.WriteStream;
  return { stdout, text: () => writes.join('') };
}

describe('watch with several URLs on a terminal', () => {
  it('draws the master’s restore with where it is, announces it once, and a line per other agent', async () => {
    const [a, b] = [await startTestService(), await startTestService()];
    services.push(a, b);
    writeFileSync(b.logPath, `${[access('12:00:00', '/v1/restore'), logger('12:00:05', 'downloading backup a9s-pg-1542859215559')].join('\n')}\n`);
    await expect.poll(() => b.agent.status().lastEventId, SLOW).toBeGreaterThanOrEqual(2);

    const t = terminal();
    const members = [a, b].map((s) => ({ url: new URL(s.url), user: 'admin', password: null }));
    const done = runClusterWatch(
      { members, options: { untilDone: true, sinceMs: null, timeoutMs: null }, heartbeatMs: 15_000, mode: 'live', colour: false },
      { transport: nodeTransport },
      { stdout: t.stdout, stderr: process.stderr },
    );
    await expect.poll(() => t.text(), SLOW).toContain(`restore-20181120T120000Z is running on ${b.url}, the master`);
    await expect.poll(() => t.text(), SLOW).toContain(`  on ${b.url}\n`);
    expect(t.text()).toContain(`  ${a.url} connected, no restore\n`);

    writeFileSync(b.logPath, `${logger('12:01:00', 'success')}\n`, { flag: 'a' });
    expect(await done).toBe(0);
    expect(t.text().split(`is running on ${b.url}, the master`)).toHaveLength(2);
  });
});
