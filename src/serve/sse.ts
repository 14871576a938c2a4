/**
 * The Server-Sent Events stream, written by hand on the raw response. The fastify
 * SSE plugins were not fit here: they buffer without bound for a client that stops
 * reading and ignore server shutdown. Writing the frames ourselves lets us share one
 * serialised frame across all clients, watch each socket's unsent bytes and drop a
 * stalled client, send heartbeats, and end every stream with `event: shutdown`.
 *
 * Frames: `id: <event id>`, `event: <type>`, `data: <event JSON on one line>`.
 * A client resuming after an id the agent has not reached (its ids started again
 * after its state directory was lost) first gets `event: reset`.
 */
import type { ServerResponse } from 'node:http';
import type { Journal } from '../journal/journal.js';
import type { WatchEvent } from '../model.js';

export interface StreamOptions {
  maxClients: number;
  heartbeatMs: number;
  /** A client whose unsent bytes pass this is dropped. */
  maxBufferedBytes: number;
}

export type DropReason = 'slow' | 'closed' | 'shutdown';

export interface StreamCounters {
  opened: number;
  dropped: Record<DropReason, number>;
}

/** The first frames for a new client: what it missed, or the latest restore's story so far. */
export interface StreamStart {
  /** Resume after this id (Last-Event-ID or ?after=), or null for "the latest restore". */
  after: number | null;
}

interface Client {
  res: ServerResponse;
  heartbeat: NodeJS.Timeout;
}

/** Owns the open event streams: admits, feeds, heartbeats and ends them. */
export class StreamHub {
  readonly counters: StreamCounters = { opened: 0, dropped: { slow: 0, closed: 0, shutdown: 0 } };
  /** The largest unsent backlog any one client has had: what a stalled client can cost at most. */
  peakBacklogBytes = 0;
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private closing = false;

  constructor(
    private readonly journal: Journal,
    private readonly options: StreamOptions,
  ) {
    this.unsubscribe = journal.subscribe((events) => this.broadcast(events));
  }

  get size(): number {
    return this.clients.size;
  }

  /** Unsent bytes across all clients: bounded by clients × maxBufferedBytes, whatever they do. */
  get bufferedBytes(): number {
    let total = 0;
    for (const c of this.clients) total += c.res.writableLength;
    return total;
  }

  /** False when a new client must be turned away (full, or shutting down). */
  admits(): boolean {
    return !this.closing && this.clients.size < this.options.maxClients;
  }

  /** Takes over `res` as an event stream. */
  open(res: ServerResponse, start: StreamStart): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const client: Client = {
      res,
      heartbeat: setInterval(() => this.write(client, ': heartbeat\n\n'), this.options.heartbeatMs),
    };
    client.heartbeat.unref();
    this.clients.add(client);
    this.counters.opened++;
    res.on('close', () => this.remove(client, 'closed'));

    let first = `retry: 2000\n\n`;
    if (start.after === null) {
      const latest = this.journal.latest('restore');
      if (latest !== null) first += frames(this.journal.eventsOf(latest.id));
    } else if (start.after > this.journal.lastId) {
      // Beyond the newest id: this agent's ids started again (its state directory was
      // lost), so the client's id is from before. Tell it, and tell the current story.
      first += resetFrame(this.journal.lastId, start.after);
      const latest = this.journal.latest('restore');
      if (latest !== null) first += frames(this.journal.eventsOf(latest.id));
    } else {
      const firstHeld = this.journal.firstId;
      if (firstHeld !== null && start.after < firstHeld - 1) {
        const missed = firstHeld - 1 - start.after;
        first += `event: missed\ndata: ${JSON.stringify({ missed, firstAvailableId: firstHeld })}\n\n`;
      }
      first += frames(this.journal.since(start.after));
    }
    this.write(client, first);
  }

  /**
   * Ends every stream with `event: shutdown` and stops admitting new ones. A client
   * that stopped reading need not be waited for: once its response is ended, the
   * HTTP server's close() counts its connection as idle and destroys it.
   */
  close(): void {
    this.closing = true;
    this.unsubscribe();
    for (const client of [...this.clients]) {
      this.remove(client, 'shutdown');
      client.res.end('event: shutdown\ndata: {}\n\n');
    }
  }

  private broadcast(events: readonly WatchEvent[]): void {
    if (this.clients.size === 0) return;
    // Serialised once for all clients.
    const text = frames(events);
    for (const client of this.clients) this.write(client, text);
  }

  private write(client: Client, text: string): void {
    const res = client.res;
    if (res.writableEnded || res.destroyed) return;
    const backlog = res.writableLength;
    if (backlog > 0 && backlog + text.length > this.options.maxBufferedBytes) {
      // The client stopped reading: drop it rather than hold its backlog in memory.
      // A client with nothing pending always gets the write, so one large batch (a
      // catch-up, a burst) is not mistaken for a stall; the backlog stays below the
      // bound plus one batch.
      this.remove(client, 'slow');
      res.destroy();
      return;
    }
    res.write(text);
    if (res.writableLength > this.peakBacklogBytes) this.peakBacklogBytes = res.writableLength;
  }

  private remove(client: Client, reason: DropReason): void {
    if (!this.clients.delete(client)) return;
    clearInterval(client.heartbeat);
    this.counters.dropped[reason]++;
  }
}

/** `event: reset`, with `id: 0` so that a browser's EventSource forgets the id from before too. */
function resetFrame(lastEventId: number, clientLastEventId: number): string {
  return `id: 0\nevent: reset\ndata: ${JSON.stringify({ lastEventId, clientLastEventId })}\n\n`;
}

export function frames(events: readonly WatchEvent[]): string {
  let out = '';
  for (const e of events) out += `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
  return out;
}
