import { appendFileSync } from 'node:fs';
import { execa } from 'execa';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { access } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';
import { haveTool } from '../helpers/tools.js';
import { SLOW } from '../helpers/watch.js';

let service: TestService | null = null;
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await service?.dispose();
  service = null;
});

describe('a full agent and a real EventSource client', () => {
  it('turns it away so that it comes back by itself once a slot frees, and gets the events', async () => {
    service = await startTestService({ http: { maxStreamClients: 1 } });
    const holder = await SseReader.open(`${service.url}/events/stream`);
    closers.push(() => holder.close());
    await expect.poll(() => service!.server.streams.size).toBe(1);

    const es = new EventSource(`${service.url}/events/stream`);
    closers.push(() => es.close());
    const busy: string[] = [];
    const requested: number[] = [];
    es.addEventListener('busy', (e) => busy.push(e.data));
    es.addEventListener('restore.requested', (e) => requested.push(Number(e.lastEventId)));

    await expect.poll(() => busy.length, SLOW).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(busy[0]!)).toMatchObject({ message: 'too many stream clients; try again later' });
    // Turned away, yet still trying: a closed EventSource would never come back.
    expect(es.readyState).not.toBe(es.CLOSED);

    holder.close();
    await expect.poll(() => service!.server.streams.size).toBe(0);
    appendFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(() => requested, SLOW).toEqual([1]);
    expect(es.readyState).toBe(es.OPEN);
    expect(service.server.streams.size).toBe(1);
  });

  it.skipIf(!haveTool('curl', 'curl'))('tells curl why, as an error object or as a busy event', async () => {
    service = await startTestService({ http: { maxStreamClients: 1 } });
    const holder = await SseReader.open(`${service.url}/events/stream`);
    closers.push(() => holder.close());
    await expect.poll(() => service!.server.streams.size).toBe(1);

    const plain = await execa('curl', ['-sS', '-i', '--max-time', '10', `${service.url}/events/stream`], { reject: false });
    expect(plain.stdout).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r?$/m);
    expect(plain.stdout).toMatch(/^retry-after: 5\r?$/im);
    expect(plain.stdout).toContain('"message":"too many stream clients; try again later"');

    const sse = await execa('curl', ['-sS', '-N', '--max-time', '10', '-H', 'Accept: text/event-stream', `${service.url}/events/stream`], {
      reject: false,
    });
    // The answer ends by itself: curl exits 0 rather than hitting --max-time.
    expect(sse.exitCode).toBe(0);
    expect(sse.stdout).toMatch(/^retry: \d+$/m);
    expect(sse.stdout).toMatch(/^event: busy\ndata: \{"message":"too many stream clients; try again later","retryMs":\d+\}$/m);
    expect(service.server.streams.size).toBe(1);
  });
});
