/**
 * The JSON schemas of the HTTP routes: what a query may hold (checked strictly,
 * before any handler runs) and what an answer holds (serialised by fastify from
 * the schema). docs/http-api.md documents the same shapes for people.
 *
 * Numbers in a query are decimal digits and nothing else: ajv's own coercion would
 * take `0x10` as 16, `1e3` as 1000 and an empty value as 0. So a number is first
 * a string of digits, and only then coerced and range-checked.
 */
import { EVENT_TYPES } from '../model.js';

/** A whole number in a query string: digits only, then within [minimum, maximum]. */
function wholeNumber(minimum: number, maximum?: number, fallback?: number) {
  return {
    ...(fallback !== undefined ? { default: String(fallback) } : {}),
    allOf: [
      { type: 'string', pattern: '^\\d{1,15}$' },
      { type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) },
    ],
  } as const;
}

export const EVENTS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: wholeNumber(0),
    limit: wholeNumber(1, 10_000, 1000),
    type: { type: 'string', enum: [...EVENT_TYPES] },
  },
} as const;

export const STREAM_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { after: wholeNumber(0) },
} as const;

/** `{ statusCode, error, message }`: every error answer. */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const HEALTHZ_SCHEMA = {
  type: 'object',
  required: ['ok', 'state', 'logExists'],
  properties: { ok: { type: 'boolean' }, state: { type: 'string' }, logExists: { type: 'boolean' }, reason: { type: 'string' } },
} as const;

/** A section whose fields other modules own: serialised whole, whatever they add. */
const section = { type: 'object', additionalProperties: true } as const;
const nullableSection = { type: ['object', 'null'], additionalProperties: true } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** How the latest restore went, whatever the agent does now. */
export const LAST_RESTORE_SCHEMA = {
  type: ['object', 'null'],
  required: ['id', 'state', 'requestedAt', 'finishedAt', 'failure'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string' },
    requestedAt: { type: 'string' },
    finishedAt: nullableString,
    failure: nullableString,
  },
} as const;

export const STATUS_SCHEMA = {
  type: 'object',
  required: ['state', 'lastRestore', 'restore', 'backup', 'follower', 'lastEventId', 'journal', 'streams', 'postgresql', 'counters'],
  properties: {
    state: { type: 'string' },
    lastRestore: LAST_RESTORE_SCHEMA,
    restore: nullableSection,
    backup: nullableSection,
    follower: section,
    lastEventId: { type: 'integer' },
    journal: section,
    streams: section,
    postgresql: nullableSection,
    persistence: section,
    latestRestore: nullableSection,
    counters: section,
  },
} as const;
