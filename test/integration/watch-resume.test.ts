import { appendFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { CuttableProxy, SLOW, startWatch } from '../helpers/watch.js';

let service: TestService;
let proxy: CuttableProxy;
afterEach(async () => {
  await proxy?.close();
  await service?.dispose();
});

const append = (...lines: string[]): void => appendFileSync(service.logPath, `${lines.join('\n')}\n`);

describe('watch resumes a dropped connection', () => {
  it('shows every event once when the connection is cut in the middle of a frame', async () => {
    service = await startTestService();
    writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(() => service.agent.status().lastEventId, SLOW).toBe(1);
    proxy = await CuttableProxy.start(service.port);
    const w = startWatch(['--url', proxy.url, '--until-done', '--json']);
    await expect.poll(() => w.json().length, SLOW).toBe(1);
    append(access('12:00:01', '/v1/order'));
    await expect.poll(() => w.json().length, SLOW).toBe(2);

    // Event 3 reaches watch only in part; event 4 happens while watch cannot get back in.
    proxy.block();
    proxy.cutInNextChunk();
    append(logger('12:00:02', 'downloading backup a9s-pg-1542859215559'));
    await expect.poll(() => w.stderr(), SLOW).toContain('trying again in');
    append(logger('12:00:03', 'restoring base backup'));
    await expect.poll(() => service.agent.status().lastEventId, SLOW).toBe(4);
    expect(w.json().map((e) => e.id)).toEqual([1, 2]);

    proxy.unblock();
    await expect.poll(() => w.json().map((e) => e.id), SLOW).toEqual([1, 2, 3, 4]);
    expect(w.stderr()).toMatch(/connected again after \d+s, resuming after event 2/);
    append(logger('12:00:09', 'success'));
    const r = await w.child;
    expect(r.exitCode).toBe(0);

    // --json is exactly what /events serves, each event once.
    const served = (await (await fetch(`${service.url}/events`)).json()) as { events: unknown[] };
    expect(w.json()).toEqual(served.events);
    // /status, the first stream, the resumed one; and once the restore ended, /restores/:id for the
    // backups the Backup Manager no longer knows.
    expect(proxy.accepted).toBe(4);
  });
});
