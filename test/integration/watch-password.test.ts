import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { SLOW, startWatch } from '../helpers/watch.js';

/**
 * An agent with a password answers 401 with a Basic challenge; this stand-in
 * answers every request that way and records what it was sent.
 */
async function passwordProtected(): Promise<{ server: Server; url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="restore-watcher"', 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ statusCode: 401, error: 'Unauthorized', message: 'wrong username or password' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

let server: Server | null = null;
let service: TestService | null = null;
afterEach(async () => {
  await service?.dispose();
  service = null;
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

describe('watch against an agent that wants a password', () => {
  it('exits 3 on a rejected password, saying so plainly, and does not retry', async () => {
    const agent = await passwordProtected();
    server = agent.server;
    const run = startWatch(['--url', agent.url, '--until-done', '--user', 'ops'], { RESTORE_WATCHER_PASSWORD: 'wrong' });
    const r = await run.child;
    expect(r.exitCode).toBe(3);
    expect(run.stderr()).toBe(`restore-watcher: the agent at ${agent.url} rejected the password for user "ops"\n`);
    expect(agent.seen.map((h) => h.authorization)).toEqual([`Basic ${Buffer.from('ops:wrong').toString('base64')}`]);
  });

  it('exits 3 when no password was given, and says where to give one', async () => {
    const agent = await passwordProtected();
    server = agent.server;
    const run = startWatch(['--url', agent.url]);
    const r = await run.child;
    expect(r.exitCode).toBe(3);
    expect(run.stderr()).toContain('requires a password: give --password or set RESTORE_WATCHER_PASSWORD');
    expect(agent.seen[0]!.authorization).toBeUndefined();
  });

  it('takes --password over the environment', async () => {
    const agent = await passwordProtected();
    server = agent.server;
    const run = startWatch(['--url', agent.url, '--password', 'flag'], { RESTORE_WATCHER_PASSWORD: 'env' });
    expect((await run.child).exitCode).toBe(3);
    expect(agent.seen[0]!.authorization).toBe(`Basic ${Buffer.from('admin:flag').toString('base64')}`);
  });
});

describe('watch against the real agent with a password', () => {
  it('exits 3 on a wrong password and follows the restore to its end with the right one', async () => {
    service = await startTestService({ auth: { password: 's3cret-pw' } });
    writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
    const wrong = startWatch(['--url', service.url, '--until-done'], { RESTORE_WATCHER_PASSWORD: 'nope' });
    expect((await wrong.child).exitCode).toBe(3);

    const run = startWatch(['--url', service.url, '--until-done'], { RESTORE_WATCHER_PASSWORD: 's3cret-pw' });
    await expect.poll(() => run.stdout(), SLOW).toContain('restore-20181120T120000Z');
    appendFileSync(service.logPath, `${logger('12:00:30', 'success')}\n`);
    expect((await run.child).exitCode).toBe(0);
  });
});
