/**
 * The HTTP server, built by a factory from its collaborators so tests can use
 * `inject()` without a port. JSON everywhere except the event stream, `/metrics`
 * and the human views at `/`; every error is `{ statusCode, error, message }`.
 */
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AgentStatus } from '../agent.js';
import type { Config } from '../config.js';
import type { Journal } from '../journal/journal.js';
import { VERSION } from '../version.js';
import { RestoreWatcherError } from '../errors.js';
import { EVENT_TYPES, type OperationKind } from '../model.js';
import type { ProbeStatus } from '../probe/readiness.js';
import { registerAuth } from './auth.js';
import type { LogOutputCounters } from '../log-output.js';
import { ConnectionGuard, connectionCap, openFileLimit } from './connections.js';
import { buildMetrics } from './metrics.js';
import { StreamHub } from './sse.js';
import type { TlsFiles } from './tls.js';
import { PAGE_CSP, PAGE_HTML } from './views/page.js';
import { pagedEvents } from './paged.js';
import { EVENTS_SHOWN, renderText } from './views/text.js';

export interface ServerDeps {
  config: Config;
  journal: Journal;
  status: () => AgentStatus;
  logger?: Logger;
  /** PostgreSQL readiness, when a probe runs. */
  probe?: () => ProbeStatus;
  /** Certificate and key read by the caller (see loadTls); null or absent: plain HTTP. */
  tls?: TlsFiles | null;
  /** The wall clock, for "how long ago" in the views. */
  now?: () => number;
  /** What the agent's own log output dropped, for /metrics. */
  logOutput?: () => LogOutputCounters;
}

const eventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  type: z.enum(EVENT_TYPES).optional(),
});

const streamQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
});

/** A restore-watcher server and its stream hub (the caller closes the hub on shutdown). */
export interface WatcherServer {
  app: FastifyInstance;
  streams: StreamHub;
  connections: ConnectionGuard;
}

/**
 * How long a connection may stay silent, take to send its headers or its whole
 * request, or wait for another keep-alive request. Streams are exempt from the
 * first (their heartbeats are what keeps them alive; see sse.ts).
 */
export const CONNECTION_TIMEOUTS = { idleMs: 30_000, headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, checkEveryMs: 2_000 };

export async function buildServer(deps: ServerDeps): Promise<WatcherServer> {
  const { config, journal } = deps;
  const now = deps.now ?? Date.now;
  let app: FastifyInstance;
  try {
    app = Fastify({
      loggerInstance: deps.logger as FastifyBaseLogger | undefined,
      logController: new LogController({ disableRequestLogging: true }),
      return503OnClosing: true,
      forceCloseConnections: false,
      connectionTimeout: CONNECTION_TIMEOUTS.idleMs,
      keepAliveTimeout: CONNECTION_TIMEOUTS.keepAliveMs,
      requestTimeout: CONNECTION_TIMEOUTS.requestMs,
      http: { connectionsCheckingInterval: CONNECTION_TIMEOUTS.checkEveryMs },
      ...(deps.tls
        ? { https: { cert: deps.tls.cert, key: deps.tls.key, connectionsCheckingInterval: CONNECTION_TIMEOUTS.checkEveryMs } }
        : {}),
    }) as unknown as FastifyInstance;
  } catch (err) {
    if (!deps.tls) throw err;
    // Readable but not a usable certificate and key (not PEM, not a pair): node:tls says which.
    throw new RestoreWatcherError('RW_TLS_UNREADABLE', `TLS certificate or key cannot be used: ${(err as Error).message}`, {
      cause: err,
    });
  }
  app.server.headersTimeout = CONNECTION_TIMEOUTS.headersMs;
  const connections = new ConnectionGuard(connectionCap(config.http.maxConnections, openFileLimit()));
  connections.attach(app.server);
  const streams = new StreamHub(journal, {
    maxClients: config.http.maxStreamClients,
    heartbeatMs: config.http.heartbeatSeconds * 1000,
    maxBufferedBytes: config.http.maxStreamBufferBytes,
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}` });
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) app.log.error({ err: error }, 'request failed');
    void reply.code(statusCode).send({
      statusCode,
      error: statusText(statusCode),
      message: statusCode >= 500 ? 'internal error' : error.message,
    });
  });

  await registerAuth(app, config.auth);
  const probe = (): ProbeStatus | null => deps.probe?.() ?? null;
  const statusBody = () => {
    const s = deps.status();
    return {
      state: s.state,
      restore: s.restore,
      backup: s.backup,
      follower: s.follower,
      lastEventId: s.lastEventId,
      journal: s.journal,
      streams: { clients: streams.size },
      postgresql: probe(),
      counters: {
        lines: s.counters.pipeline.lines,
        records: s.counters.pipeline.records,
        unknown: s.counters.pipeline.unknown,
        follower: s.counters.follower,
        persistence: s.counters.persistence,
      },
    };
  };
  const metrics = buildMetrics({
    status: deps.status,
    streams,
    version: VERSION,
    connections,
    ...(deps.probe ? { probe: deps.probe } : {}),
    ...(deps.logOutput ? { logOutput: deps.logOutput } : {}),
  });

  app.get('/', async (request, reply) => {
    void reply.header('Vary', 'Accept');
    switch (preferredType(request.headers.accept)) {
      case 'text/html':
        return reply
          .type('text/html; charset=utf-8')
          .header('Content-Security-Policy', PAGE_CSP)
          .header('X-Content-Type-Options', 'nosniff')
          .header('Referrer-Policy', 'no-referrer')
          .header('Cache-Control', 'no-store')
          .send(PAGE_HTML);
      case 'application/json':
        return statusBody();
      default: {
        const s = deps.status();
        const events = s.restore !== null ? journal.recentOf(s.restore.id, EVENTS_SHOWN) : [];
        return reply
          .type('text/plain; charset=utf-8')
          .header('Cache-Control', 'no-store')
          .send(renderText({ status: s, events, probe: probe(), now: now(), version: VERSION }));
      }
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.metrics();
    return reply.type(metrics.contentType).send(text);
  });

  app.get('/healthz', async () => {
    const s = deps.status();
    return { ok: true, state: s.state, logExists: s.follower.exists };
  });

  app.get('/status', async () => statusBody());

  for (const kind of ['restore', 'backup'] as const satisfies readonly OperationKind[]) {
    app.get(`/${kind}s`, async () => ({ [`${kind}s`]: journal.operations(kind) }));
    app.get<{ Params: { id: string } }>(`/${kind}s/:id`, async (request, reply) => {
      const op = journal.operation(kind, request.params.id);
      if (op === undefined) return notFound(reply, `no ${kind} with id ${request.params.id}`);
      const head = `{${JSON.stringify(kind)}:${JSON.stringify(op)},"events":[`;
      return sendJson(reply, pagedEvents(journal, { head, tail: ']}' }, 0, { operationId: op.id }));
    });
  }

  app.get('/events', async (request, reply) => {
    const q = parseQuery(eventsQuery, request.query, reply);
    if (q === null) return reply;
    const query = { limit: q.limit, ...(q.type !== undefined ? { type: q.type } : {}) };
    return sendJson(reply, pagedEvents(journal, { head: '{"events":[', tail: ']}' }, q.after ?? 0, query));
  });

  app.get('/events/stream', (request, reply) => {
    const q = parseQuery(streamQuery, request.query, reply);
    if (q === null) return reply;
    if (!streams.admits()) {
      return reply
        .code(503)
        .header('Retry-After', '5')
        .send({ statusCode: 503, error: 'Service Unavailable', message: 'too many stream clients; try again later' });
    }
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    reply.hijack();
    streams.open(reply.raw, { after: lastEventId ?? q.after ?? null });
    return reply;
  });

  // Streams end first (each gets `event: shutdown`), then the server stops listening.
  app.addHook('preClose', async () => {
    streams.close();
  });

  return { app, streams, connections };
}

/** Validates a query with zod; on failure sends 400 naming the parameter and returns null. */
function parseQuery<T extends z.ZodType>(schema: T, query: unknown, reply: FastifyReply): z.infer<T> | null {
  const r = schema.safeParse(query);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const name =
    issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.length > 0 ? issue.path.join('.') : 'query';
  const what = issue.code === 'unrecognized_keys' ? 'unknown query parameter' : issue.message;
  void reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `${name}: ${what}` });
  return null;
}

const OFFERED = ['text/plain', 'text/html', 'application/json'] as const;

/**
 * Which of our types the Accept header prefers: highest q, then the most specific
 * range, then text/plain (so curl's `*\/*` gets text and a browser gets HTML).
 */
export function preferredType(accept: string | undefined): (typeof OFFERED)[number] {
  if (accept === undefined || accept.trim() === '') return 'text/plain';
  let best: { type: (typeof OFFERED)[number]; q: number; specificity: number } | null = null;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam !== undefined ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    const [type, subtype] = range.trim().split('/');
    for (const offered of OFFERED) {
      const [ot, os] = offered.split('/');
      const specificity = type === ot && subtype === os ? 2 : type === ot && subtype === '*' ? 1 : type === '*' ? 0 : -1;
      if (specificity < 0) continue;
      if (best === null || q > best.q || (q === best.q && specificity > best.specificity)) best = { type: offered, q, specificity };
    }
  }
  return best?.type ?? 'text/plain';
}

/** Sends a JSON body streamed by pagedEvents. */
function sendJson(reply: FastifyReply, body: Readable): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body);
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
}

function statusText(code: number): string {
  return STATUS_CODES[code] ?? 'Error';
}
