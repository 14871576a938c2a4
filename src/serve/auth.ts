/**
 * Who may talk to the server. HTTP Basic auth guards every route but `/healthz`
 * when a password is set; without one the server only listens on loopback, since
 * the VM is reachable by other tenants' traffic. Credentials never reach a log,
 * an error message or a response.
 */
import basicAuth from '@fastify/basic-auth';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { RestoreWatcherError } from '../errors.js';

export const REALM = 'restore-watcher';

/** Routes a load balancer or monit may call without credentials. */
const OPEN_ROUTES = new Set(['/healthz']);

/** Constant-time equality of two strings of any lengths: both are hashed to 32 bytes first. */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Whether both fields match; both are always compared, so timing says nothing about which was wrong. */
export function credentialsMatch(
  username: string,
  password: string,
  expected: { username: string; password: string },
): boolean {
  const user = safeEqual(username, expected.username);
  const pass = safeEqual(password, expected.password);
  return user && pass;
}

/**
 * Whether an Authorization header lets its request in: always without a password.
 * For the requests fastify answers before any hook runs (a malformed URL), which
 * must not tell a caller without credentials more than a 401.
 */
export function authorizes(auth: Config['auth'], header: string | undefined): boolean {
  if (auth.password === null) return true;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (m === null) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return credentialsMatch(decoded.slice(0, colon), decoded.slice(colon + 1), { username: auth.username, password: auth.password });
}

/** The challenge a 401 carries, as the Basic auth plugin sends it. */
export const CHALLENGE = `Basic realm="${REALM}"`;

/** Requires Basic auth on every route except the open ones; does nothing without a password. */
export async function registerAuth(app: FastifyInstance, auth: Config['auth']): Promise<void> {
  const password = auth.password;
  if (password === null) return;
  const expected = { username: auth.username, password };
  await app.register(basicAuth, {
    authenticate: { realm: REALM },
    utf8: false,
    validate: async (username, given) => {
      if (!credentialsMatch(username, given, expected)) {
        throw Object.assign(new Error('wrong username or password'), { statusCode: 401 });
      }
    },
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.url !== undefined && OPEN_ROUTES.has(request.routeOptions.url)) return done();
    app.basicAuth(request, reply, (err?: Error) => {
      if (err !== undefined) {
        // The plugin's message for a missing header names the header's format; say what to do instead.
        const message = (err as { code?: string }).code === 'FST_BASIC_AUTH_MISSING_OR_BAD_AUTHORIZATION_HEADER'
          ? 'authentication required (HTTP Basic)'
          : err.message;
        return done(Object.assign(new Error(message), { statusCode: 401 }));
      }
      done();
    });
  });
}

/** True for addresses only this machine can reach. Host names other than `localhost` are not trusted to be. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isIP(h.slice(7)) === 4 && h.slice(7).startsWith('127.');
  return false;
}

/** Refuses to serve beyond loopback without a password. */
export function assertSecureBind(config: Config): void {
  if (config.auth.password !== null || isLoopback(config.http.host)) return;
  throw new RestoreWatcherError(
    'RW_INSECURE_BIND',
    `refusing to listen on ${config.http.host} without a password: anyone who can reach it could read restore details. ` +
      'Set RESTORE_WATCHER_PASSWORD in the environment or auth.password in the config file, ' +
      'or listen on 127.0.0.1.',
  );
}
