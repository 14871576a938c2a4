import { appendFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { access, logger } from '../helpers/lines.js';
import { waitForOutput } from '../helpers/output.js';
import { startTestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';
import { tempDir } from '../helpers/temp.js';

describe('shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s, open streams get event: shutdown and end, and serve exits 0 within 5 s',
    async (signal) => {
      const dir = tempDir('rw-shutdown-');
      const log = join(dir, 'production.log');
      writeFileSync(log, `${access('12:00:00', '/v1/restore')}\n`);
      const child = cli(['serve', '--log', log, '--port', '0', '--state-dir', join(dir, 'state')], {
        env: { RESTORE_WATCHER_PASSWORD: '' },
      });
      const url = (await waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      const streams = [await SseReader.open(`${url}/events/stream`), await SseReader.open(`${url}/events/stream?after=0`)];
      for (const s of streams) await expect.poll(() => s.events().length).toBe(1);
      // A client that never reads must not hold the shutdown up either.
      const port = Number(new URL(url).port);
      const stalled = connect(port, '127.0.0.1');
      stalled.pause();
      stalled.write('GET /events/stream HTTP/1.1\r\nHost: x\r\n\r\n');
      await expect.poll(async () => ((await (await fetch(`${url}/status`)).json()) as { streams: { clients: number } }).streams.clients).toBe(3);

      const started = Date.now();
      child.kill(signal);
      const result = await child;
      const took = Date.now() - started;
      stalled.destroy();

      expect(result.exitCode).toBe(0);
      expect(took).toBeLessThan(5000);
      expect(String(result.stderr)).toContain(`${signal}: shutting down`);
      for (const s of streams) {
        await expect.poll(() => s.ended).toBe(true);
        expect(s.frames.at(-1)).toEqual({ event: 'shutdown', data: '{}' });
      }
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    },
    15_000,
  );
});

describe('shutdown with a client that stopped reading', () => {
  it('does not wait for it: its connection is destroyed with the server', async () => {
    const service = await startTestService({ http: { maxStreamBufferBytes: 256 * 1024 * 1024 } });
    const serverSide: Socket[] = [];
    service.server.app.server.on('connection', (socket: Socket) => serverSide.push(socket));
    const stalled = connect(service.port, '127.0.0.1');
    try {
      stalled.pause();
      stalled.write('GET /events/stream HTTP/1.1\r\nHost: x\r\n\r\n');
      await expect.poll(() => service.server.streams.size).toBe(1);
      writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
      // Flood until the kernel's socket buffers are full and the server holds a backlog for it.
      const message = 'x'.repeat(3000);
      const deadline = Date.now() + 30_000;
      let written = 1;
      while (service.server.streams.bufferedBytes < 1024 * 1024) {
        if (Date.now() > deadline) throw new Error('no backlog built up');
        appendFileSync(service.logPath, `${Array.from({ length: 50 }, () => logger('12:00:01', message)).join('\n')}\n`);
        written += 50;
        await expect.poll(() => service.agent.status().lastEventId, { timeout: 10_000 }).toBeGreaterThanOrEqual(written);
      }
      const started = Date.now();
      await service.dispose();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(service.server.streams.counters.dropped.shutdown).toBe(1);
      // Its connection is gone on the server's side, so nothing keeps the process from exiting.
      expect(serverSide).toHaveLength(1);
      await expect.poll(() => serverSide[0]!.destroyed).toBe(true);
    } finally {
      stalled.destroy();
    }
  }, 60_000);
});
