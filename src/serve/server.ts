/**
 * The HTTP server, built by a factory from its collaborators so tests can use
 * `inject()` without a port. JSON everywhere except the event stream, `/metrics`
 * and the human views at `/`; every error is `{ statusCode, error, message }`.
 */
import { STATUS_CODES } from 'node:http';
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
import { AfterRestoreIndex, type RestoreInsight } from '../report/after-restore.js';
import type { ForgottenReport } from '../report/forgotten.js';
import { registerAuth } from './auth.js';
import { buildMetrics } from './metrics.js';
import { StreamHub } from './sse.js';
import type { TlsFiles } from './tls.js';
import type { HookCounters } from '../hooks/runner.js';
import { PAGE_CSP, PAGE_HTML } from './views/page.js';
import { renderText } from './views/text.js';

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
  /** Counters of the hooks, when they run (for /metrics). */
  hooks?: () => HookCounters;
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
}

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
      ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    }) as unknown as FastifyInstance;
  } catch (err) {
    if (!deps.tls) throw err;
    // Readable but not a usable certificate and key (not PEM, not a pair): node:tls says which.
    throw new RestoreWatcherError('RW_TLS_UNREADABLE', `TLS certificate or key cannot be used: ${(err as Error).message}`, {
      cause: err,
    });
  }
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
      restore: s.restore,
      backup: s.backup,
      follower: s.follower,
      lastEventId: s.lastEventId,
      journal: s.journal,
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
    ...(deps.probe ? { probe: deps.probe } : {}),
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
        const events = s.restore !== null ? journal.eventsOf(s.restore.id) : [];
        return reply
          .type('text/plain; charset=utf-8')
          .header('Cache-Control', 'no-store')
          .send(renderText({ status: s, events, probe: probe(), now: now(), version: VERSION, insight: latestInsight() }));
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
      if (kind === 'backup') return { backup: op, events: journal.eventsOf(op.id) };
      const { phases, estimate, forgotten } = insights.insight(op, now());
      return {
        restore: op,
        phases,
        estimate,
        ...(forgotten !== null ? { forgottenBackups: forgotten.forgottenBackups, forgotten: withoutList(forgotten) } : {}),
        events: journal.eventsOf(op.id),
      };
    });
  }

  app.get('/events', async (request, reply) => {
    const q = parseQuery(eventsQuery, request.query, reply);
    if (q === null) return reply;
    return { events: journal.since(q.after ?? 0, q.limit, q.type) };
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
    insights.close();
    streams.close();
  });

  return { app, streams };
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

/** How the forgotten backups were decided, without the list (given beside it). */
function withoutList(report: ForgottenReport): Omit<ForgottenReport, 'forgottenBackups'> {
  const { forgottenBackups: _list, ...rest } = report;
  return rest;
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
}

function statusText(code: number): string {
  return STATUS_CODES[code] ?? 'Error';
}
