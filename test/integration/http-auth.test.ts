import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { access } from '../helpers/lines.js';
import { basic, capturingLogger } from '../helpers/log.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';

const PASSWORD = 'Pw-3f9c2e7a1b-secret';
const log = capturingLogger('debug');
let service: TestService;
const bodies: string[] = [];

beforeAll(async () => {
  // The log's times are in 2018: no stall ticks on the wall clock during the test.
  service = await startTestService(
    { auth: { password: PASSWORD } },
    { logger: log.logger },
  );
  writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
  await vi.waitFor(() => expect(service.agent.status().lastEventId).toBe(1), { timeout: 5000 });
});
afterAll(async () => service?.dispose());

async function get(path: string, authorization?: string) {
  const res = await fetch(`${service.url}${path}`, {
    headers: authorization !== undefined ? { Authorization: authorization } : {},
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, headers: res.headers, text };
}

const ROUTES = ['/', '/status', '/restores', '/restores/restore-20181120T120000Z', '/events', '/metrics', '/nope'];

describe('HTTP Basic auth', () => {
  it.each(ROUTES)('%s without credentials: 401 with a challenge and a JSON body', async (path) => {
    const r = await get(path);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="restore-watcher"');
    expect(JSON.parse(r.text)).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'authentication required (HTTP Basic)' });
  });

  it.each([
    ['wrong password', basic('admin', 'wrong')],
    ['wrong username', basic('root', PASSWORD)],
    ['password as username', basic(PASSWORD, 'admin')],
    ['empty credentials', basic('', '')],
    ['not Basic', `Bearer ${PASSWORD}`],
    ['not base64 of user:pass', 'Basic bm9jb2xvbg=='],
  ])('%s: 401, without saying which field was wrong', async (_name, authorization) => {
    const r = await get('/status', authorization);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="restore-watcher"');
    expect(JSON.parse(r.text)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it.each(ROUTES.filter((p) => p !== '/nope'))('%s with the right credentials: 200', async (path) => {
    const r = await get(path, basic('admin', PASSWORD));
    expect(r.status).toBe(200);
  });

  it('an unknown route with the right credentials is a JSON 404, and a bad query a 400 naming the parameter', async () => {
    const nope = await get('/nope', basic('admin', PASSWORD));
    expect([nope.status, JSON.parse(nope.text)]).toEqual([
      404,
      { statusCode: 404, error: 'Not Found', message: 'no route for GET at this path (serve --help lists the routes)' },
    ]);
    const bad = await get('/events?limit=0', basic('admin', PASSWORD));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^limit: /) });
    const post = await fetch(`${service.url}/status`, { method: 'POST', headers: { Authorization: basic('admin', PASSWORD) } });
    expect([post.status, await post.json()]).toEqual([
      404,
      { statusCode: 404, error: 'Not Found', message: 'no route for POST at this path (serve --help lists the routes)' },
    ]);
  });

  it('the event stream needs credentials too', async () => {
    const denied = await SseReader.open(`${service.url}/events/stream`);
    expect(denied.status).toBe(401);
    denied.close();
    const allowed = await SseReader.open(`${service.url}/events/stream`, { Authorization: basic('admin', PASSWORD) });
    try {
      expect(allowed.status).toBe(200);
      await expect.poll(() => allowed.events().map((e) => e.type)).toEqual(['restore.requested']);
    } finally {
      allowed.close();
    }
  });

  it('/healthz stays open for monitors, and says nothing secret', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ ok: true, state: 'restore-requested', logExists: true });
    expect((await get('/healthz?probe=1')).status).toBe(200);
  });

  it('the password appears in no response and no log line', async () => {
    const status = await get('/status', basic('admin', PASSWORD));
    expect(status.text).not.toMatch(/password/i);
    const encoded = Buffer.from(`admin:${PASSWORD}`).toString('base64');
    expect(log.records.length).toBeGreaterThan(0);
    for (const text of [...bodies, log.raw()]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encoded);
    }
  });
});
