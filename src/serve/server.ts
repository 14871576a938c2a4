/**
 * The HTTP server, built by a factory from its collaborators so tests can use
 * `inject()` without a port. JSON everywhere except the event stream, `/metrics`
 * and the human views at `/`; every error is `{ statusCode, error, message }`.
 * The error shape and content negotiation are in replies.ts.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { unhealthy, type AgentStatus } from '../agent/status.js';
import type { Config } from '../config.js';
import type { Journal } from '../journal/journal.js';
import { VERSION } from '../version.js';
import { RestoreWatcherError } from '../errors.js';
import type { EventType, Operation, OperationKind } from '../model.js';
import type { ProbeStatus } from '../probe/readiness.js';
import type { LogOutputCounters } from '../log-output.js';
import { AfterRestoreIndex, type RestoreInsight } from '../report/after-restore.js';
import type { ForgottenReport } from '../report/forgotten.js';
import { registerAuth } from './auth.js';
import { ConnectionGuard, connectionCap, openFileLimit } from './connections.js';
import { compilersOnFirstUse } from './compilers.js';
import { buildMetrics, type Metrics } from './metrics.js';
import { busyFrames, StreamHub } from './sse.js';
import { ERROR_SCHEMA, EVENTS_QUERY, HEALTHZ_SCHEMA, STATUS_SCHEMA, STREAM_QUERY } from './schemas.js';
import type { TlsFiles } from './tls.js';
import type { HookCounters } from '../hooks/runner.js';
import { PAGE_CSP, PAGE_HTML } from './views/page.js';
import { pagedEvents } from './paged.js';
import { EVENTS_SHOWN, renderText } from './views/text.js';
import { errorBody, frameworkError, notFound, preferredType, sendJson, validationMessage, wantsEventStream } from './replies.js';

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
  /** Counters of the hooks, when they run (for /metrics). */
  hooks?: () => HookCounters;
}

/** How long a client turned away from a full stream should wait before trying again. */
const BUSY_RETRY_SECONDS = 5;
const BUSY_MESSAGE = 'too many stream clients; try again later';

/** A restore-watcher server and its stream hub (the caller closes the hub on shutdown). */
export interface WatcherServer {
  app: FastifyInstance;
  streams: StreamHub;
  connections: ConnectionGuard;
  metrics: Metrics;
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
      // Query parameters are checked, not cleaned: an unknown one is an error, never dropped.
      ajv: { customOptions: { removeAdditional: false } },
      schemaController: { compilersFactory: compilersOnFirstUse() },
      // A malformed URL or an over-long path parameter: answered before any hook runs,
      // so the password is checked here, and the URL is never echoed back.
      frameworkErrors: (error, request, reply) => frameworkError(deps.config.auth, error, request, reply),
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
    void reply.code(404).send(errorBody(404, `no route for ${request.method} at this path (serve --help lists the routes)`));
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) app.log.error({ err: error }, 'request failed');
    const message =
      statusCode >= 500 ? 'internal error' : error.validation !== undefined ? validationMessage(error.validation) : error.message;
    void reply.code(statusCode).send(errorBody(statusCode, message));
  });

  // What the journal says about each restore beyond its summary: forgotten backups, phases, time left.
  const insights = new AfterRestoreIndex(journal, { backupIdPattern: new RegExp(config.track.rules.backupIdPattern) });
  // One answer per journal state and second: a scrape reads it for several metrics.
  let cached: { key: string; value: (RestoreInsight & { restoreId: string }) | null } | null = null;
  const latestInsight = (): (RestoreInsight & { restoreId: string }) | null => {
    const at = now();
    const key = `${journal.lastId} ${Math.floor(at / 1000)}`;
    if (cached?.key !== key) {
      const restore = journal.latest('restore');
      cached = { key, value: restore === null ? null : { restoreId: restore.id, ...insights.insight(restore, at) } };
    }
    return cached.value;
  };

  await registerAuth(app, config.auth);
  const probe = (): ProbeStatus | null => deps.probe?.() ?? null;
  const statusBody = () => {
    const s = deps.status();
    return {
      state: s.state,
      lastRestore: lastRestore(s.restore),
      restore: s.restore,
      backup: s.backup,
      follower: s.follower,
      lastEventId: s.lastEventId,
      journal: s.journal,
      persistence: s.persistence,
      streams: { clients: streams.size },
      postgresql: probe(),
      latestRestore: latestInsight(),
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
    insight: latestInsight,
    ...(deps.hooks ? { hooks: deps.hooks } : {}),
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
          .send(renderText({ status: s, events, probe: probe(), now: now(), version: VERSION, insight: latestInsight() }));
      }
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const { text, contentType } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });

  app.get('/healthz', { schema: { response: { 200: HEALTHZ_SCHEMA, 503: HEALTHZ_SCHEMA } } }, async (_request, reply) => {
    const s = deps.status();
    const reason = unhealthy(s);
    // 503 with the reason: the agent still serves, but is not doing all of its job.
    if (reason !== null) reply.code(503);
    return { ok: reason === null, state: s.state, logExists: s.follower.exists, ...(reason !== null ? { reason } : {}) };
  });

  app.get('/status', { schema: { response: { 200: STATUS_SCHEMA, '4xx': ERROR_SCHEMA } } }, async () => statusBody());

  for (const kind of ['restore', 'backup'] as const satisfies readonly OperationKind[]) {
    app.get(`/${kind}s`, async () => ({ [`${kind}s`]: journal.operations(kind) }));
    app.get<{ Params: { id: string } }>(`/${kind}s/:id`, async (request, reply) => {
      const op = journal.operation(kind, request.params.id);
      if (op === undefined) return notFound(reply, `no ${kind} with id ${request.params.id}`);
      let about: Record<string, unknown> = { [kind]: op };
      if (kind === 'restore') {
        const { phases, estimate, forgotten } = insights.insight(op, now());
        about = {
          ...about,
          phases,
          estimate,
          ...(forgotten !== null ? { forgottenBackups: forgotten.forgottenBackups, forgotten: withoutList(forgotten) } : {}),
        };
      }
      // The events are paged from the journal as the client reads: an operation's can be many.
      const head = `${JSON.stringify(about).slice(0, -1)},"events":[`;
      return sendJson(reply, pagedEvents(journal, { head, tail: ']}' }, 0, { operationId: op.id }));
    });
  }

  app.get<{ Querystring: { after?: number; limit: number; type?: EventType } }>(
    '/events',
    { schema: { querystring: EVENTS_QUERY, response: { '4xx': ERROR_SCHEMA } } },
    async (request, reply) => {
      const q = request.query;
      const query = { limit: q.limit, ...(q.type !== undefined ? { type: q.type } : {}) };
      // Paged from the journal as the client reads, so a large answer is never one string.
      return sendJson(reply, pagedEvents(journal, { head: '{"events":[', tail: ']}' }, q.after ?? 0, query));
    },
  );

  app.get<{ Querystring: { after?: number } }>(
    '/events/stream',
    { schema: { querystring: STREAM_QUERY } },
    (request, reply) => {
      // When full: EventSource and `watch` (which ask for an event stream) get a 200 that
      // says `busy`, sets the reconnection delay and ends, since by the SSE standard a
      // non-200 answer ends an EventSource for good; curl and scripts get a 503 error object.
      const full = !streams.admits();
      const refused = full && !wantsEventStream(request);
      if (full) void reply.header('Retry-After', String(BUSY_RETRY_SECONDS));
      if (refused) return reply.code(503).send(errorBody(503, BUSY_MESSAGE));
      if (request.method === 'HEAD') {
        // What a GET would be answered with, without taking a stream slot or waiting for events.
        return reply.code(200).type('text/event-stream; charset=utf-8').header('Cache-Control', 'no-cache').send();
      }
      if (full) {
        return reply
          .code(200)
          .type('text/event-stream; charset=utf-8')
          .header('Cache-Control', 'no-cache')
          .send(busyFrames(BUSY_RETRY_SECONDS * 1000, BUSY_MESSAGE));
      }
      const header = request.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
      reply.hijack();
      streams.open(reply.raw, { after: lastEventId ?? request.query.after ?? null });
      return reply;
    },
  );

  // Streams end first (each gets `event: shutdown`), then the server stops listening.
  app.addHook('preClose', async () => {
    insights.close();
    streams.close();
  });

  return { app, streams, connections, metrics };
}

/** The latest restore's outcome, for scripts: `state` says what the agent does now, this how the last restore went. */
function lastRestore(r: Operation | null) {
  if (r === null) return null;
  return { id: r.id, state: r.state, requestedAt: r.requestedAt, finishedAt: r.finishedAt, failure: r.failure };
}

/** How the forgotten backups were decided, without the list (given beside it). */
function withoutList(report: ForgottenReport): Omit<ForgottenReport, 'forgottenBackups'> {
  const { forgottenBackups: _list, ...rest } = report;
  return rest;
}
