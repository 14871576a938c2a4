/**
 * The HTTP server, built by a factory from its collaborators so tests can use
 * `inject()` without a port. JSON everywhere except the event stream; every error
 * is `{ statusCode, error, message }`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AgentStatus } from '../agent.js';
import type { Config } from '../config.js';
import type { Journal } from '../journal/journal.js';
import { EVENT_TYPES, type OperationKind } from '../model.js';
import { StreamHub } from './sse.js';

export interface ServerDeps {
  config: Config;
  journal: Journal;
  status: () => AgentStatus;
  logger?: Logger;
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
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger | undefined,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: false,
  });
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

  app.get('/healthz', async () => {
    const s = deps.status();
    return { ok: true, state: s.state, logExists: s.follower.exists };
  });

  app.get('/status', async () => {
    const s = deps.status();
    return {
      state: s.state,
      restore: s.restore,
      backup: s.backup,
      follower: s.follower,
      lastEventId: s.lastEventId,
      journal: s.journal,
      streams: { clients: streams.size },
    };
  });

  for (const kind of ['restore', 'backup'] as const satisfies readonly OperationKind[]) {
    app.get(`/${kind}s`, async () => ({ [`${kind}s`]: journal.operations(kind) }));
    app.get<{ Params: { id: string } }>(`/${kind}s/:id`, async (request, reply) => {
      const op = journal.operation(kind, request.params.id);
      if (op === undefined) return notFound(reply, `no ${kind} with id ${request.params.id}`);
      return { [kind]: op, events: journal.eventsOf(op.id) };
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

  app.addHook('preClose', async () => {
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

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
}

function statusText(code: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    404: 'Not Found',
    405: 'Method Not Allowed',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return texts[code] ?? 'Error';
}
