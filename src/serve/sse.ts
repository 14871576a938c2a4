/**
 * The Server-Sent Events stream, written by hand on the raw response. The fastify
 * SSE plugins were not fit here: they buffer without bound for a client that stops
 * reading and ignore server shutdown. Writing the frames ourselves lets us share one
 * serialised frame across all clients, watch each socket's unsent bytes and drop a
 * stalled client, send heartbeats, and end every stream with `event: shutdown`.
 *
 * A client that resumes (`Last-Event-ID`, `?after=`) catches up from the journal a
 * page at a time: the next page is read and written only once the socket has
 * drained the previous one, so a catch-up over a hundred thousand events costs a
 * page per client, not the whole history as one string. While it catches up a
 * client takes new events from the journal too; once it has reached the newest,
 * it gets them as they are broadcast.
 *
 * Frames: `id: <event id>`, `event: <type>`, `data: <event JSON on one line>`.
 * A client resuming after an id the agent has not reached (its ids started again
 * after its state directory was lost) first gets `event: reset`.
 */
import type { ServerResponse } from 'node:http';
import type { Journal } from '../journal/journal.js';
import type { EventType, WatchEvent } from '../model.js';

export interface StreamOptions {
  maxClients: number;
  heartbeatMs: number;
  /** A client whose unsent bytes pass this is dropped. */
  maxBufferedBytes: number;
  /** Bytes of events read from the journal at once for a client catching up (default 64 KiB). */
  pageBytes?: number;
}

const DEFAULT_PAGE_BYTES = 64 * 1024;

/** Why a stream ended: stopped reading, left, shutdown, or its catch-up could not be read from the journal. */
export type DropReason = 'slow' | 'closed' | 'shutdown' | 'unreadable';

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
  /** While catching up: the id of the last event looked at. Null once live. */
  cursor: number | null;
  /** While catching up on the latest restore: its id, and the newest event when the client came. */
  only: { operationId: string; until: number } | null;
}

/** Owns the open event streams: admits, feeds, heartbeats and ends them. */
export class StreamHub {
  readonly counters: StreamCounters = { opened: 0, dropped: { slow: 0, closed: 0, shutdown: 0, unreadable: 0 } };
  /** The largest unsent backlog any one client has had: what a stalled client can cost at most. */
  peakBacklogBytes = 0;
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private closing = false;

  constructor(
    private readonly journal: Journal,
    private readonly options: StreamOptions,
  ) {
    this.unsubscribe = journal.subscribe((events, json) => this.broadcast(events, json));
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
    // Heartbeats keep a stream alive, and the backlog rule drops one that stopped reading: no idle timeout.
    res.socket?.setTimeout(0);
    const client: Client = {
      res,
      heartbeat: setInterval(() => this.write(client, ': heartbeat\n\n'), this.options.heartbeatMs),
      cursor: start.after ?? 0,
      only: null,
    };
    client.heartbeat.unref();
    this.clients.add(client);
    this.counters.opened++;
    res.on('close', () => this.remove(client, 'closed'));

    this.write(client, `retry: 2000\n\n`);
    if (start.after === null) {
      const latest = this.journal.latest('restore');
      if (latest === null) client.cursor = this.journal.lastId;
      else client.only = { operationId: latest.id, until: this.journal.lastId };
    } else if (start.after > this.journal.lastId) {
      // Beyond the newest id: this agent's ids started again (its state directory was
      // lost), so the client's id is from before. Tell it, and tell the current story.
      this.write(client, resetFrame(this.journal.lastId, start.after));
      const latest = this.journal.latest('restore');
      client.cursor = 0;
      if (latest === null) client.cursor = this.journal.lastId;
      else client.only = { operationId: latest.id, until: this.journal.lastId };
    }
    res.on('drain', () => this.catchUpOrEnd(client));
    this.catchUpOrEnd(client);
  }

  /** A journal that cannot be read ends this client's stream (it may reconnect), never the agent. */
  private catchUpOrEnd(client: Client): void {
    try {
      this.catchUp(client);
    } catch {
      this.remove(client, 'unreadable');
      client.res.destroy();
    }
  }

  /** Writes pages of what the client has not seen until its socket is full or it has seen the newest event. */
  private catchUp(client: Client): void {
    const res = client.res;
    while (client.cursor !== null && !res.writableEnded && !res.destroyed) {
      const cursor = client.cursor;
      if (cursor >= this.journal.lastId) {
        client.cursor = null;
        return;
      }
      const firstHeld = this.journal.firstId;
      let text = '';
      if (firstHeld !== null && cursor < firstHeld - 1 && client.only === null) {
        const missed = firstHeld - 1 - cursor;
        text += `event: missed\ndata: ${JSON.stringify({ missed, firstAvailableId: firstHeld })}\n\n`;
      }
      const only = client.only !== null && cursor < client.only.until ? client.only : null;
      const page = this.journal.page(cursor, {
        maxBytes: this.options.pageBytes ?? DEFAULT_PAGE_BYTES,
        ...(only !== null ? { operationId: only.operationId, until: only.until } : {}),
      });
      text += pageFrames(page);
      client.cursor = page.next;
      if (only !== null && page.done) {
        client.only = null;
        client.cursor = Math.max(page.next, only.until);
      } else if (page.ids.length === 0 && page.next === cursor) {
        client.cursor = this.journal.lastId;
      }
      if (text !== '' && !this.write(client, text)) return;
    }
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

  private broadcast(events: readonly WatchEvent[], json: readonly string[]): void {
    if (this.clients.size === 0) return;
    // Serialised once for all clients; those still catching up read these from the journal.
    // Encoded once too: every socket queues the same bytes, where a string would be copied for each.
    const bytes = framesBuffer(events, json);
    for (const client of this.clients) if (client.cursor === null) this.write(client, bytes);
  }

  /** Writes unless the client is gone or stalled; false when it should not be written to until it drains. */
  private write(client: Client, text: string | Buffer): boolean {
    const res = client.res;
    if (res.writableEnded || res.destroyed) return false;
    const backlog = res.writableLength;
    if (backlog > 0 && backlog + text.length > this.options.maxBufferedBytes) {
      // The client stopped reading: drop it rather than hold its backlog in memory.
      // A client with nothing pending always gets the write, so one large batch (a
      // catch-up, a burst) is not mistaken for a stall; the backlog stays below the
      // bound plus one batch.
      this.remove(client, 'slow');
      res.destroy();
      return false;
    }
    const more = res.write(text);
    if (res.writableLength > this.peakBacklogBytes) this.peakBacklogBytes = res.writableLength;
    return more;
  }

  private remove(client: Client, reason: DropReason): void {
    if (!this.clients.delete(client)) return;
    clearInterval(client.heartbeat);
    this.counters.dropped[reason]++;
  }
}

/**
 * The whole answer to a client turned away from a full hub: a reconnection delay
 * One `busy` event that says why, a reconnection delay with jitter (so the
 * turned-away do not all come back at once), and the end of the stream, after
 * which an EventSource tries again. The event comes first, so that a client can
 * tell from the first frame that it was turned away.
 */
export function busyFrames(retryMs: number, message: string): string {
  const retry = Math.round(retryMs * (0.75 + Math.random() / 2));
  return `event: busy\ndata: ${JSON.stringify({ message, retryMs: retry })}\n\nretry: ${retry}\n\n`;
}

/** `event: reset`, with `id: 0` so that a browser's EventSource forgets the id from before too. */
function resetFrame(lastEventId: number, clientLastEventId: number): string {
  return `id: 0\nevent: reset\ndata: ${JSON.stringify({ lastEventId, clientLastEventId })}\n\n`;
}

export function frames(events: readonly WatchEvent[]): string {
  return pageFrames({ ids: events.map((e) => e.id), types: events.map((e) => e.type), json: events.map((e) => JSON.stringify(e)) });
}

/**
 * Frames for events already serialised, encoded straight into one buffer: the
 * frames as one string first would be as large as the batch, a string the
 * collector frees only in a full collection.
 */
export function framesBuffer(events: readonly WatchEvent[], json: readonly string[]): Buffer {
  const heads = events.map((e) => `id: ${e.id}\nevent: ${e.type}\ndata: `);
  let size = 0;
  json.forEach((text, i) => (size += heads[i]!.length + Buffer.byteLength(text) + 2));
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  json.forEach((text, i) => {
    at += out.write(heads[i]!, at, 'latin1');
    at += out.write(text, at);
    out[at++] = 0x0a;
    out[at++] = 0x0a;
  });
  return out;
}

/** Frames for events already serialised. */
function pageFrames(page: { ids: readonly number[]; types: readonly EventType[]; json: readonly string[] }): string {
  let out = '';
  page.json.forEach((json, i) => (out += `id: ${page.ids[i]}\nevent: ${page.types[i]}\ndata: ${json}\n\n`));
  return out;
}
