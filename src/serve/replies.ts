/**
 * The server's answers that are not a route's own: the error shape every error
 * answer takes (`{ statusCode, error, message }`), fastify's errors and schema
 * failures put in words, and content negotiation (event stream, text, HTML or JSON).
 */
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { Config } from '../config.js';
import { authorizes, CHALLENGE } from './auth.js';

/** The body of every error answer. */
export function errorBody(statusCode: number, message: string): { statusCode: number; error: string; message: string } {
  return { statusCode, error: statusText(statusCode), message };
}

/** A query that failed its schema, in words that name the parameter. */
export function validationMessage(errors: readonly FastifySchemaValidationError[]): string {
  const e = errors[0]!;
  const params = e.params as Record<string, unknown>;
  const name = e.instancePath.replace(/^\//, '') || String(params.additionalProperty ?? params.missingProperty ?? 'query');
  switch (e.keyword) {
    case 'additionalProperties':
      return `${name}: unknown query parameter`;
    case 'pattern':
      return `${name}: expected a whole number in decimal digits`;
    case 'type':
      return `${name}: expected one value, given more than once`;
    case 'minimum':
    case 'maximum':
      return `${name}: expected a number ${String(params.comparison)} ${String(params.limit)}`;
    case 'enum':
      return `${name}: expected one of ${(params.allowedValues as unknown[]).join(', ')}`;
    default:
      return `${name}: ${e.message ?? 'invalid'}`;
  }
}

/** fastify's own errors before routing, answered in the documented shape (and after the password check). */
export function frameworkError(auth: Config['auth'], error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (!authorizes(auth, request.headers.authorization)) {
    void reply.code(401).header('WWW-Authenticate', CHALLENGE).send(errorBody(401, 'authentication required (HTTP Basic)'));
    return;
  }
  const statusCode = error.statusCode ?? 400;
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the URL is malformed (an invalid percent-encoding)'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a path parameter is too long'
        : 'the request cannot be routed';
  void reply.code(statusCode).send(errorBody(statusCode, message));
}

/** EventSource and `watch` ask for an event stream; curl and scripts take what they get. */
export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').toLowerCase().includes('text/event-stream');
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
export function sendJson(reply: FastifyReply, body: Readable): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body);
}

export function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send(errorBody(404, message));
}

function statusText(code: number): string {
  return STATUS_CODES[code] ?? 'Error';
}
