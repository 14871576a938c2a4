import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { access } from '../helpers/lines.js';
import { serviceForTest, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';
import { freePort } from '../helpers/watch.js';

let service: TestService | null = null;

describe('starting on a large existing log', () => {
  it('answers /status while the first read is still going, and says when it has caught up', async () => {
    const dir = tempDir('rw-catch-up-');
    // Lines that make no event: the catch-up is reading, not journaling, so the
    // test measures the order of listen and read rather than the disk's speed.
    const status = `${access('12:00:01', '/v1/status')}\n`;
    writeFileSync(join(dir, 'production.log'), `${access('12:00:00', '/v1/backup', 500)}\n${status.repeat(600_000)}`);
    const port = await freePort();
    const starting = serviceForTest({ http: { port } }, { dir }).then((s) => (service = s));

    const seen: boolean[] = [];
    await expect
      .poll(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/status`).catch(() => null);
          if (res === null) return false;
          const { follower } = (await res.json()) as { follower: { caughtUp: boolean } };
          seen.push(follower.caughtUp);
          return follower.caughtUp;
        },
        { timeout: 80_000, interval: 5 },
      )
      .toBe(true);
    await starting;
    expect(seen[0]).toBe(false);
    expect(service!.agent.status().follower.linesRead).toBe(600_001);
  }, 90_000);
});
