import { appendFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';
import { SLOW, startWatch } from '../helpers/watch.js';

let service: TestService | null = null;
let holder: SseReader | null = null;
afterEach(async () => {
  holder?.close();
  await service?.dispose();
  [service, holder] = [null, null];
});

describe('watch against an agent serving its maximum of streams', () => {
  it('says the agent is busy, waits as asked, and follows the restore once a slot frees', async () => {
    service = await startTestService({ http: { maxStreamClients: 1 } });
    holder = await SseReader.open(`${service.url}/events/stream`);
    await expect.poll(() => service!.server.streams.size).toBe(1);

    const run = startWatch(['--url', service.url, '--until-done']);
    await expect.poll(() => run.stderr(), SLOW).toMatch(/the agent is busy: too many stream clients; try again later; trying again in \d/);
    expect(run.stderr()).not.toContain('connected again');

    holder.close();
    // The holder's stream was the first opened; watch's is the second.
    await expect.poll(() => service!.server.streams.counters.opened, SLOW).toBe(2);
    expect(service.server.streams.size).toBe(1);
    appendFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n${logger('12:00:09', 'success')}\n`);
    const r = await run.child;
    expect(r.exitCode).toBe(0);
    expect(run.stderr()).toMatch(/restore-20181120T120000Z succeeded in 9s\n$/);
  });
});
