import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import { buildServer, type WatcherServer } from '../../src/serve/server.js';
import { fixtureJournal, statusOf } from '../helpers/journal.js';

const config = defaultConfig();
const { journal, pipeline } = fixtureJournal(['backup-then-restore.log', 'restore-failed-backtrace.log'], config);
let server: WatcherServer;

beforeAll(async () => {
  server = await buildServer({ config, journal, status: () => statusOf(journal, pipeline) });
});
afterAll(async () => server.app.close());

const get = async (url: string) => {
  const res = await server.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
};

describe('JSON routes', () => {
  it('GET /status gives the latest restore and backup', async () => {
    const { status, body } = await get('/status');
    expect(status).toBe(200);
    expect(body.restore).toMatchObject({ id: 'restore-20181120T130000Z', state: 'failed' });
    expect(body.backup).toMatchObject({ id: 'backup-20181122T040015Z', state: 'succeeded' });
    expect(body.lastEventId).toBe(journal.lastId);
  });

  it('GET /restores lists newest first; /restores/:id gives one with its events', async () => {
    const list = await get('/restores');
    expect(list.body.restores.map((r: { id: string }) => r.id)).toEqual([
      'restore-20181120T130000Z',
      'restore-20181122T093000Z',
    ]);
    const one = await get('/restores/restore-20181122T093000Z');
    expect(one.body.restore.state).toBe('succeeded');
    expect(one.body.events.at(-1).type).toBe('restore.succeeded');
  });

  it('GET /backups lists backups only', async () => {
    const { body } = await get('/backups');
    expect(body.backups.map((r: { id: string }) => r.id)).toEqual(['backup-20181122T040015Z']);
    expect((await get('/backups/restore-20181120T130000Z')).status).toBe(404);
  });

  it('404s an unknown id with a JSON message', async () => {
    const { status, body } = await get('/restores/nope');
    expect(status).toBe(404);
    expect(body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no restore with id nope' });
  });

  it('404s an unknown route with the same JSON shape', async () => {
    const { status, body } = await get('/nope');
    expect(status).toBe(404);
    expect(body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });

  it('GET /events pages with after and limit, oldest first, and filters by type', async () => {
    const all = (await get('/events')).body.events as Array<{ id: number; type: string }>;
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    const page = (await get('/events?after=2&limit=3')).body.events as Array<{ id: number }>;
    expect(page.map((e) => e.id)).toEqual([3, 4, 5]);
    const failed = (await get('/events?type=restore.failed')).body.events as Array<{ type: string }>;
    expect(failed.map((e) => e.type)).toEqual(['restore.failed']);
  });

  it.each([
    ['/events?after=-1', 'after'],
    ['/events?after=abc', 'after'],
    ['/events?limit=0', 'limit'],
    ['/events?limit=10001', 'limit'],
    ['/events?type=restore.exploded', 'type'],
    ['/events?colour=red', 'colour'],
    // Decimal digits only: no hex, no exponent, no empty value, no repeat.
    ['/events?after=0x10', 'after'],
    ['/events?after=1e3', 'after'],
    ['/events?after=', 'after'],
    ['/events?after=1.5', 'after'],
    ['/events?after=+3', 'after'],
    ['/events?after=1&after=2', 'after'],
    ['/events?limit=1e3', 'limit'],
    ['/events/stream?after=0x10', 'after'],
    ['/events/stream?colour=red', 'colour'],
  ])('400s %s naming the parameter', async (url, name) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    expect(body.error).toBe('Bad Request');
    expect(body.message).toMatch(new RegExp(`^${name}: `));
  });

  it('says why a query is refused, in words rather than the schema library\'s', async () => {
    expect((await get('/events?after=0x10')).body.message).toBe('after: expected a whole number in decimal digits');
    expect((await get('/events?after=1&after=2')).body.message).toBe('after: expected one value, given more than once');
    expect((await get('/events?limit=10001')).body.message).toBe('limit: expected a number <= 10000');
    expect((await get('/events?colour=red')).body.message).toBe('colour: unknown query parameter');
  });

  it('GET /status carries the latest restore\'s outcome at the top level, whatever the agent does now', async () => {
    const { body } = await get('/status');
    expect(body.state).toBe('idle');
    expect(body.lastRestore).toEqual({
      id: 'restore-20181120T130000Z',
      state: 'failed',
      requestedAt: body.restore.requestedAt,
      finishedAt: body.restore.finishedAt,
      failure: body.restore.failure,
    });
    expect(body.lastRestore.failure).toMatch(/^could not download backup: 403 Forbidden/);
  });

  it('GET /healthz is small and says nothing secret', async () => {
    const { status, body } = await get('/healthz');
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true, state: 'idle', logExists: true });
  });
});

describe('errors fastify raises before routing', () => {
  it.each([
    ['/%zz', 400, 'Bad Request'],
    [`/restores/${'a'.repeat(200)}`, 414, 'URI Too Long'],
  ])('%s: %i in the documented shape, the URL not echoed', async (url, statusCode, error) => {
    const res = await server.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(statusCode);
    const body = res.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(body).toMatchObject({ statusCode, error });
    expect(res.body).not.toContain('zz');
    expect(res.body).not.toContain('aaaa');
  });

  it('asks for the password before saying the URL is malformed', async () => {
    const config = { ...defaultConfig(), auth: { username: 'admin', password: 'pw' } };
    const guarded = await buildServer({ config, journal, status: () => statusOf(journal, pipeline) });
    try {
      const anonymous = await guarded.app.inject({ method: 'GET', url: '/%zz' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Basic realm="restore-watcher"');
      expect(anonymous.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'authentication required (HTTP Basic)' });
      const wrong = await guarded.app.inject({ method: 'GET', url: '/%zz', headers: { authorization: basic('admin', 'nope') } });
      expect(wrong.statusCode).toBe(401);
      const right = await guarded.app.inject({ method: 'GET', url: '/%zz', headers: { authorization: basic('admin', 'pw') } });
      expect(right.statusCode).toBe(400);
      expect(right.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    } finally {
      await guarded.app.close();
    }
  });
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
