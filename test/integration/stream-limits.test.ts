import { appendFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';

let service: TestService;
const readers: SseReader[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  for (const s of sockets.splice(0)) s.destroy();
  await service?.dispose();
});

async function open(path = '/events/stream'): Promise<SseReader> {
  const r = await SseReader.open(`${service.url}${path}`);
  readers.push(r);
  return r;
}

describe('stream limits', () => {
  it('turns the client past maxStreamClients away with 503, Retry-After and a JSON body', async () => {
    service = await startTestService({ http: { maxStreamClients: 2 } });
    const [a] = [await open(), await open()];
    expect(service.server.streams.size).toBe(2);

    const res = await fetch(`${service.url}/events/stream`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'too many stream clients; try again later',
    });

    a!.close();
    await expect.poll(() => service.server.streams.size).toBe(1);
    expect((await open()).status).toBe(200);
  });

  it('answers HEAD /events/stream at once without taking a stream slot, so a monitor cannot fill the cap', async () => {
    service = await startTestService({ http: { maxStreamClients: 1 } });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${service.url}/events/stream`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(await res.text()).toBe('');
    }
    expect(service.server.streams.size).toBe(0);
    expect(service.server.streams.counters.opened).toBe(0);
    expect((await open()).status).toBe(200);
    // Full: HEAD says so as a GET would, and still takes nothing.
    const full = await fetch(`${service.url}/events/stream`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(service.server.streams.size).toBe(1);
  });

  it('sends a heartbeat comment on an idle stream, so proxies keep it open', async () => {
    service = await startTestService({ http: { heartbeatSeconds: 0.1 } });
    const idle = await open();
    await expect.poll(() => idle.frames.filter((f) => f.comment === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    expect(idle.ended).toBe(false);
  });

  it('drops a client that stops reading, counts it, and keeps the backlog bounded', async () => {
    const bound = 64 * 1024;
    service = await startTestService({ http: { maxStreamBufferBytes: bound }, journal: { maxEvents: 1000 } });
    writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(() => service.agent.status().lastEventId).toBe(1);

    // A client that asks for the stream and then never reads a byte.
    const stalled = connect(service.port, '127.0.0.1');
    sockets.push(stalled);
    stalled.pause();
    stalled.write('GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await expect.poll(() => service.server.streams.size).toBe(1);
    // A client that reads along, to show the drop is aimed at the stalled one only.
    const healthy = await open('/events/stream?after=1');

    // Each progress event carries its ~3 KB message several times over (line, message, lastMessage).
    const message = 'x'.repeat(3000);
    let written = 0;
    const deadline = Date.now() + 30_000;
    while (service.server.streams.counters.dropped.slow === 0) {
      if (Date.now() > deadline) throw new Error(`stalled client not dropped after ${written} events`);
      const batch = Array.from({ length: 20 }, (_, i) => logger(`12:00:${String((written + i) % 60).padStart(2, '0')}`, message));
      appendFileSync(service.logPath, `${batch.join('\n')}\n`);
      written += batch.length;
      await expect.poll(() => service.agent.status().lastEventId, { timeout: 10_000 }).toBeGreaterThanOrEqual(written);
    }

    // Dropped for being slow, counted, and its socket closed; the reader kept up and stays.
    expect(service.server.streams.counters.dropped.slow).toBe(1);
    await expect.poll(() => service.server.streams.size).toBe(1);
    const connections = () =>
      new Promise<number>((resolve, reject) => service.server.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    await expect.poll(connections).toBe(1);
    // Once it reads again it finds the server hung up on it.
    stalled.resume();
    await expect.poll(() => stalled.readableEnded || stalled.destroyed, { timeout: 10_000 }).toBe(true);
    // It cost at most the bound plus one batch of frames (20 events of ~9 KB), a fraction of the flood.
    const peak = service.server.streams.peakBacklogBytes;
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(bound + 20 * 12 * 1024);
    expect(written * 9000).toBeGreaterThan(4 * peak);
    expect(service.server.streams.bufferedBytes).toBeLessThan(bound);
    await expect.poll(() => healthy.events().at(-1)?.id, { timeout: 10_000 }).toBe(service.agent.status().lastEventId);
    expect(healthy.events().map((e) => e.id)).toEqual(Array.from({ length: service.agent.status().lastEventId - 1 }, (_, i) => i + 2));
    expect(healthy.ended).toBe(false);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^restore_watcher_stream_clients_dropped_total\{reason="slow"\} 1$/m);
    expect(metrics).toMatch(/^restore_watcher_stream_clients 1$/m);
  });
});
