import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';
import { SLOW, startWatch } from '../helpers/watch.js';

let service: TestService | null = null;
afterEach(async () => service?.dispose());

describe('watch across an agent restart', () => {
  it('follows the agent back after `event: shutdown` and misses nothing written meanwhile', async () => {
    const dir = tempDir('rw-watch-restart-');
    const log = join(dir, 'production.log');
    writeFileSync(log, `${access('12:00:00', '/v1/restore')}\n${access('12:00:01', '/v1/order')}\n`);
    service = await startTestService({}, { dir });
    const port = service.port;
    await expect.poll(() => service!.agent.status().lastEventId, SLOW).toBe(2);
    const w = startWatch(['--url', service.url, '--until-done', '--json']);
    await expect.poll(() => w.json().length, SLOW).toBe(2);

    await service.close();
    service = null;
    await expect.poll(() => w.stderr(), SLOW).toContain('the agent is shutting down');
    appendFileSync(log, `${logger('12:00:02', 'restoring base backup')}\n`);

    service = await startTestService({ http: { port } }, { dir });
    await expect.poll(() => w.json().map((e) => e.id), SLOW).toEqual([1, 2, 3]);
    appendFileSync(log, `${logger('12:00:09', 'success')}\n`);
    const r = await w.child;
    expect(r.exitCode).toBe(0);
    const served = (await (await fetch(`${service.url}/events`)).json()) as { events: unknown[] };
    expect(w.json()).toEqual(served.events);
  });
});
