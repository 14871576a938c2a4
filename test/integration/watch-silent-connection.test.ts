import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SLOW, startWatch } from '../helpers/watch.js';

let server: Server | null = null;
const held: ServerResponse[] = [];
afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

describe('watch on a connection that goes silent', () => {
  it('drops it after three heartbeat periods without a byte and resumes after the last event', async () => {
    // A stand-in agent whose first stream sends one event and then nothing, not even heartbeats.
    const streams: IncomingMessage[] = [];
    server = createServer((req, res) => {
      if (req.url === '/status') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ lastEventId: 0 }));
        return;
      }
      streams.push(req);
      held.push(res);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (streams.length === 1) {
        const event = { id: 1, type: 'backup.requested', operation: { id: 'backup-1', kind: 'backup' } };
        res.write(`id: 1\nevent: backup.requested\ndata: ${JSON.stringify(event)}\n\n`);
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    const started = Date.now();
    const run = startWatch(['--url', url, '--json', '--heartbeat', '0.2']);
    await expect.poll(() => streams.length, SLOW).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(streams[0]!.headers['last-event-id']).toBeUndefined();
    expect(streams[1]!.headers['last-event-id']).toBe('1');
    expect(run.stderr()).toContain(`${url}: no data for 0.6s; trying again in`);
    expect(run.json().map((e) => e.id)).toEqual([1]);
  });
});
