import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionGuard, connectionCap, FD_RESERVE, openFileLimit } from '../../src/serve/connections.js';

describe('the connection cap', () => {
  it.each([
    ['Max open files            1024                 524288               files', 1024],
    ['Max open files            unlimited            unlimited            files', null],
    ['Max processes             63704                63704                processes', null],
  ])('reads the soft open-file limit from %s', (line, expected) => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-limits-'));
    writeFileSync(join(dir, 'limits'), `Limit                     Soft Limit           Hard Limit           Units\n${line}\n`);
    expect(openFileLimit(join(dir, 'limits'))).toBe(expected);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps descriptors free below the limit', () => {
    expect(connectionCap(256, 1024)).toBe(256);
    expect(connectionCap(2000, 1024)).toBe(1024 - FD_RESERVE);
    expect(connectionCap(256, null)).toBe(256);
    expect(connectionCap(256, 64)).toBe(1);
  });
});

let server: Server | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

function idle(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port }, () => resolve({ socket, closed: () => closed }));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('ConnectionGuard', () => {
  it('closes the oldest idle connection to admit a new one, and never one with a request in progress', async () => {
    let release: () => void = () => undefined;
    server = createServer((req, res) => {
      if (req.url === '/slow') release = () => res.end('slow');
      else res.end('ok');
    });
    const guard = new ConnectionGuard(3);
    guard.attach(server);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    const slow = get(port, '/slow');
    await expect.poll(() => guard.size).toBe(1);
    const first = await idle(port);
    const second = await idle(port);
    await expect.poll(() => guard.size).toBe(3);
    // At the cap: the health check gets in, the oldest idle connection makes room.
    expect(await get(port, '/healthz')).toBe(200);
    await expect.poll(() => first.closed()).toBe(true);
    expect(second.closed()).toBe(false);
    expect(guard.counters.evicted).toBeGreaterThanOrEqual(1);
    release();
    expect(await slow).toBe(200);
  });

  it('refuses a new connection only when every open one is busy', async () => {
    const holds: Array<() => void> = [];
    server = createServer((_req, res) => holds.push(() => res.end('ok')));
    const guard = new ConnectionGuard(2);
    guard.attach(server);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const answers = [get(port, '/a'), get(port, '/b')];
    await expect.poll(() => holds.length).toBe(2);
    const third = await idle(port);
    await expect.poll(() => third.closed()).toBe(true);
    expect(guard.counters.refused).toBe(1);
    for (const h of holds) h();
    expect(await Promise.all(answers)).toEqual([200, 200]);
  });
});
