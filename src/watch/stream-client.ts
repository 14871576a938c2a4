/**
 * Keeps one event stream open to the agent, whatever the network does, and reports
 * what it sees as inputs for the watch reducer.
 *
 * Before the first stream it asks `/status` for the agent's last event id (the
 * line between what happened before `watch` started and what happens live). The
 * first stream asks for the latest restore's story; every later one resumes with
 * `Last-Event-ID` after the last event received (or after that first last event
 * id, if none came yet), so nothing is shown twice or skipped. A connection that
 * fails, closes, sends `event: shutdown` (the agent is stopping, and will
 * probably be back) or `event: busy` (it serves its maximum of streams) is retried with exponential backoff and jitter, capped. A
 * connection that stays silent for three heartbeat periods is dead, whatever TCP
 * thinks: it is dropped and retried. A 401 ends it all; so does an answer that
 * says this is not an agent.
 *
 * Time and randomness are injected so the loop can be tested with fake timers.
 */
import { STATUS_CODES } from 'node:http';
import type { WatchEvent } from '../model.js';
import { initialSseState, parseSse, type SseFrame, type SseState } from './sse-parser.js';
import type { HttpAnswer, HttpRequest, Transport } from './transport.js';
import type { WatchInput } from './watch-state.js';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Backoff {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, capMs: 15_000 };

/** The wait before attempt number `failures` + 1: doubling from `baseMs`, capped, then jittered into its upper half. */
export function backoffDelay(failures: number, random: number, b: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(b.capMs, b.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling * (0.5 + random / 2));
}

export interface StreamClientOptions {
  /** The agent's base URL; routes are resolved against it (a path prefix is kept). */
  url: URL;
  user: string;
  password: string | null;
  /** The agent's heartbeat period; no byte for three of them means the connection is dead. */
  heartbeatMs: number;
  backoff?: Backoff;
}

export interface StreamClientDeps {
  transport: Transport;
  clock?: Clock;
  random?: () => number;
}

export interface StreamClientCounters {
  attempts: number;
  streams: number;
  /** Connections given up on after three silent heartbeat periods. */
  silent: number;
  /** Event frames whose data was not an event (skipped). */
  badFrames: number;
}

export class EventStreamClient {
  readonly counters: StreamClientCounters = { attempts: 0, streams: 0, silent: 0, badFrames: 0 };
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly headers: Record<string, string>;
  private baseline: number | null = null;
  private lastId: number | null = null;
  private failures = 0;
  private request: HttpRequest | null = null;
  private idleTimer: unknown = null;
  private retryTimer: unknown = null;
  private stopped = false;

  constructor(
    private readonly options: StreamClientOptions,
    private readonly deps: StreamClientDeps,
    private readonly emit: (input: WatchInput) => void,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.headers = { 'User-Agent': 'restore-watcher-watch' };
    if (options.password !== null) {
      this.headers.Authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
    }
  }

  start(): void {
    this.connect();
  }

  /** Closes the connection and cancels every timer; nothing is emitted after this. */
  stop(): void {
    this.stopped = true;
    this.request?.close();
    this.request = null;
    this.clock.clearTimeout(this.idleTimer);
    this.clock.clearTimeout(this.retryTimer);
  }

  private route(path: string): URL {
    const base = new URL(this.options.url);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    return new URL(path, base);
  }

  private connect(): void {
    if (this.stopped) return;
    this.counters.attempts++;
    this.emit({ kind: 'connecting', attempt: this.failures + 1 });
    if (this.baseline === null) this.fetchBaseline();
    else this.openStream();
  }

  private fetchBaseline(): void {
    const url = this.route('status');
    let body = '';
    let answered = false;
    this.armIdle();
    this.request = this.deps.transport(url, { ...this.headers, Accept: 'application/json' }, {
      response: (a) => {
        if (a.status !== 200) return this.refusedOrRetry(url, a);
        answered = true;
      },
      data: (text) => {
        this.armIdle();
        body += text;
      },
      end: () => {
        if (!answered) return this.fail('the connection closed before an answer');
        const lastEventId = readLastEventId(body);
        if (lastEventId === null) return this.refuse(`${url.href} did not answer as a restore-watcher agent: is the URL right?`);
        this.baseline = lastEventId;
        this.emit({ kind: 'baseline', lastEventId });
        this.openStream();
      },
      error: (err) => this.failed(url, err),
    });
  }

  private openStream(): void {
    if (this.stopped) return;
    const url = this.route('events/stream');
    // The first stream tells the latest restore's story; later ones resume.
    const after = this.lastId ?? (this.counters.streams > 0 ? this.baseline : null);
    const headers: Record<string, string> = { ...this.headers, Accept: 'text/event-stream', 'Cache-Control': 'no-cache' };
    if (after !== null) headers['Last-Event-ID'] = String(after);
    let open = false;
    let announced = false;
    let sse: SseState = initialSseState(after !== null ? String(after) : '');
    this.armIdle();
    this.request = this.deps.transport(url, headers, {
      response: (a) => {
        if (a.status !== 200) return this.refusedOrRetry(url, a);
        if (!String(a.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          return this.refuse(`${url.href} answered, but not with an event stream: is the URL right?`);
        }
        open = true;
      },
      data: (text) => {
        if (!open) return;
        this.armIdle();
        const r = parseSse(sse, text);
        sse = r.state;
        for (const frame of r.frames) {
          // Connected once the first frame says this is a stream, not a busy agent turning us away.
          if (!announced && !(frame.kind === 'event' && frame.event === 'busy')) {
            announced = true;
            this.failures = 0;
            this.counters.streams++;
            this.emit({ kind: 'connected', after });
          }
          if (this.stopped || !this.take(frame)) return;
        }
      },
      end: () => {
        if (open) this.fail('the agent closed the connection');
      },
      error: (err) => this.failed(url, err),
    });
  }

  /** Handles one frame; false when the connection was let go. */
  private take(frame: SseFrame): boolean {
    if (frame.kind !== 'event') return true;
    if (frame.event === 'shutdown') {
      this.fail('the agent is shutting down');
      return false;
    }
    if (frame.event === 'busy') {
      // The agent serves its maximum of streams: it says how long to wait, then hangs up.
      const b = parseJson(frame.data) as { message?: unknown; retryMs?: unknown } | null;
      const wait = typeof b?.retryMs === 'number' && b.retryMs > 0 ? b.retryMs : 0;
      this.fail(`the agent is busy: ${typeof b?.message === 'string' ? b.message : 'too many stream clients'}`, wait);
      return false;
    }
    if (frame.event === 'reset') {
      const m = parseJson(frame.data) as { lastEventId?: unknown } | null;
      if (typeof m?.lastEventId !== 'number') {
        this.counters.badFrames++;
        return true;
      }
      // The agent's ids started again: resume from its newest, not from ours.
      this.lastId = m.lastEventId;
      this.emit({ kind: 'reset', lastEventId: m.lastEventId });
      return true;
    }
    if (frame.event === 'missed') {
      const m = parseJson(frame.data) as { missed?: unknown; firstAvailableId?: unknown } | null;
      if (typeof m?.missed === 'number' && typeof m.firstAvailableId === 'number') {
        this.emit({ kind: 'missed', missed: m.missed, firstAvailableId: m.firstAvailableId });
      } else {
        this.counters.badFrames++;
      }
      return true;
    }
    const event = parseJson(frame.data) as WatchEvent | null;
    if (!isEvent(event)) {
      this.counters.badFrames++;
      return true;
    }
    this.lastId = Math.max(this.lastId ?? 0, event.id);
    this.emit({ kind: 'event', event, raw: frame.data });
    return true;
  }

  private refusedOrRetry(url: URL, a: HttpAnswer): void {
    const status = `answered ${a.status}${statusText(a.status)}`;
    if (a.status === 401) {
      this.stop();
      this.emit({ kind: 'rejected', user: this.options.user, withPassword: this.options.password !== null });
      return;
    }
    if (a.status >= 500 || a.status === 408 || a.status === 429) {
      const retryAfter = Number(a.headers['retry-after']);
      return this.fail(status, Number.isFinite(retryAfter) ? retryAfter * 1000 : 0);
    }
    this.refuse(`${url.href} ${status}: is the URL that of a restore-watcher agent?`);
  }

  /** A transport error: retried, unless retrying cannot help. */
  private failed(url: URL, err: Error): void {
    const mismatch = protocolMismatch(url, err);
    if (mismatch !== null) return this.refuse(mismatch);
    this.fail(describeError(err));
  }

  private refuse(reason: string): void {
    this.stop();
    this.emit({ kind: 'refused', reason });
  }

  /** Lets the connection go and tries again after the backoff. */
  private fail(reason: string, atLeastMs = 0): void {
    if (this.stopped) return;
    this.request?.close();
    this.request = null;
    this.clock.clearTimeout(this.idleTimer);
    this.failures++;
    const delay = Math.max(atLeastMs, backoffDelay(this.failures, this.random(), this.options.backoff));
    this.retryTimer = this.clock.setTimeout(() => this.connect(), delay);
    this.emit({ kind: 'lost', reason, retryInMs: delay });
  }

  /** (Re)starts the dead-connection timer: no byte for three heartbeat periods. */
  private armIdle(): void {
    this.clock.clearTimeout(this.idleTimer);
    const limit = this.options.heartbeatMs * 3;
    this.idleTimer = this.clock.setTimeout(() => {
      this.counters.silent++;
      this.fail(`no data for ${limit / 1000}s`);
    }, limit);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isEvent(value: unknown): value is WatchEvent {
  const e = value as Partial<WatchEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    Number.isSafeInteger(e.id) &&
    typeof e.type === 'string' &&
    typeof e.operation === 'object' &&
    e.operation !== null &&
    typeof e.operation.id === 'string' &&
    (e.operation.kind === 'restore' || e.operation.kind === 'backup')
  );
}

function readLastEventId(body: string): number | null {
  const status = parseJson(body) as { lastEventId?: unknown } | null;
  const id = status?.lastEventId;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? '' : ` ${text}`;
}

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

/**
 * An https:// URL for an agent that speaks plain HTTP: the TLS handshake reads an
 * HTTP answer where a TLS record should be (OpenSSL: "wrong version number"). No
 * retry will change that, and OpenSSL's words do not say what to do.
 */
export function protocolMismatch(url: URL, err: Error): string | null {
  const code = (err as NodeJS.ErrnoException).code;
  if (url.protocol !== 'https:' || (code !== 'EPROTO' && code !== 'ERR_SSL_WRONG_VERSION_NUMBER')) return null;
  if (!/wrong version number|packet length too long|http request/i.test(err.message)) return null;
  const plain = new URL(url.origin);
  plain.protocol = 'http:';
  return `the agent at ${url.origin} speaks plain HTTP, not HTTPS: use ${plain.origin}`;
}

export function describeError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && ERROR_TEXT[code] !== undefined) return `${ERROR_TEXT[code]} (${code})`;
  return code !== undefined ? `${err.message} (${code})` : err.message;
}
