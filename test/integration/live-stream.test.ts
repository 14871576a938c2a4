import { appendFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';

let service: TestService;
const readers: SseReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  await service?.dispose();
});

async function open(path: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const r = await SseReader.open(`${service.url}${path}`, headers);
  readers.push(r);
  return r;
}

describe('the event stream follows a restore live', () => {
  it('delivers appended lines as events, in order, with SSE framing and no-buffering headers', async () => {
    service = await startTestService();
    writeFileSync(service.logPath, '');
    await expect.poll(() => service.agent.status().follower.exists).toBe(true);
    const stream = await open('/events/stream');
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');

    appendFileSync(service.logPath, `${access('12:12:30', '/v1/restore')}\n`);
    await expect.poll(() => stream.events().map((e) => e.type)).toEqual(['restore.requested']);
    appendFileSync(service.logPath, `${access('12:12:31', '/v1/order')}\n${logger('12:13:00', 'success')}\n`);
    await expect.poll(() => stream.events().map((e) => e.type)).toEqual([
      'restore.requested',
      'restore.progress',
      'restore.succeeded',
    ]);
    const frames = stream.frames.filter((f) => f.id !== undefined);
    expect(frames.map((f) => [f.id, f.event])).toEqual([
      ['1', 'restore.requested'],
      ['2', 'restore.progress'],
      ['3', 'restore.succeeded'],
    ]);
  });

  it('waits for a partial last line to be finished', async () => {
    service = await startTestService();
    writeFileSync(service.logPath, `${access('12:12:30', '/v1/restore')}\n`);
    await expect.poll(() => service.agent.status().lastEventId).toBe(1);
    const half = access('12:12:31', '/v1/order');
    appendFileSync(service.logPath, half.slice(0, 40));
    await expect.poll(() => service.agent.status().follower.offset).toBeGreaterThan(100);
    expect(service.agent.status().lastEventId).toBe(1);
    appendFileSync(service.logPath, `${half.slice(40)}\n`);
    await expect.poll(() => service.agent.status().lastEventId).toBe(2);
  });

  it('resumes after Last-Event-ID and after ?after= without repeating or missing an event', async () => {
    service = await startTestService();
    writeFileSync(
      service.logPath,
      [access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order'), access('12:00:02', '/v1/order')].join('\n') +
        '\n',
    );
    await expect.poll(() => service.agent.status().lastEventId).toBe(3);
    const byHeader = await open('/events/stream', { 'Last-Event-ID': '1' });
    const byQuery = await open('/events/stream?after=2');
    await expect.poll(() => byHeader.events().map((e) => e.id)).toEqual([2, 3]);
    await expect.poll(() => byQuery.events().map((e) => e.id)).toEqual([3]);
    appendFileSync(service.logPath, `${logger('12:00:03', 'success')}\n`);
    await expect.poll(() => byHeader.events().map((e) => e.id)).toEqual([2, 3, 4]);
    await expect.poll(() => byQuery.events().map((e) => e.id)).toEqual([3, 4]);
  });

  it('shows a late client the latest restore so far, not older ones', async () => {
    service = await startTestService();
    writeFileSync(
      service.logPath,
      [
        access('10:00:00', '/v1/restore'),
        logger('10:00:05', 'success'),
        access('11:00:00', '/v1/restore'),
        access('11:00:01', '/v1/order'),
      ].join('\n') + '\n',
    );
    await expect.poll(() => service.agent.status().lastEventId).toBe(4);
    const late = await open('/events/stream');
    await expect
      .poll(() => late.events().map((e) => [e.id, (e as { restoreId?: string }).restoreId]))
      .toEqual([
        [3, 'restore-20181120T110000Z'],
        [4, 'restore-20181120T110000Z'],
      ]);
  });

  it('serves the same event object on the stream and on /events', async () => {
    service = await startTestService();
    const stream = await open('/events/stream?after=0');
    writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(() => stream.events().length).toBe(1);
    const res = await fetch(`${service.url}/events`);
    const body = (await res.json()) as { events: unknown[] };
    expect(body.events).toEqual(stream.events());
  });
});
