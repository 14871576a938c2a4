/**
 * Readers of the journal take it a page at a time: a resuming stream client and a
 * history answer never make more than a page's bytes before the socket drains.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import type { WatchEvent } from '../../src/model.js';
import { pagedEvents } from '../../src/serve/paged.js';
import { StreamHub } from '../../src/serve/sse.js';

function event(id: number): WatchEvent {
  const op = {
    kind: 'restore' as const,
    id: `restore-${id % 3}`,
    state: 'running' as const,
    requestedAt: '2018-11-20T00:00:00.000Z',
    requestedBy: 'x',
    requestStatus: 200,
    finishedAt: null,
    lastActivityAt: '2018-11-20T00:00:00.000Z',
    durationMs: null,
    orderPolls: id,
    messages: 0,
    lastMessage: null,
    failure: null,
  };
  return { id, type: 'restore.progress', time: op.requestedAt, restoreId: op.id, state: 'running', file: 'f', offset: id, line: `line ${id}`, message: `poll ${id}`, operation: op };
}

function journalOf(count: number): Journal {
  const journal = new Journal({ maxEvents: 10_000 });
  for (let id = 1; id <= count; id++) journal.append([event(id)]);
  return journal;
}

/**
 * A response whose socket takes nothing until the test drains it: records what
 * each write was given, and what was written between two drains.
 */
class StalledResponse extends EventEmitter {
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  readonly writes: number[] = [];
  /** Bytes written between drains, one entry per drain cycle. */
  readonly cycles: number[] = [0];
  text = '';
  writeHead(): this {
    return this;
  }
  write(text: string): boolean {
    this.writes.push(text.length);
    this.cycles[this.cycles.length - 1]! += text.length;
    this.writableLength += text.length;
    this.text += text;
    return this.writableLength < 1024;
  }
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  drain(): void {
    this.writableLength = 0;
    this.cycles.push(0);
    this.emit('drain');
  }
  ids(): number[] {
    return [...this.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  }
}

describe('a resuming stream client', () => {
  it('gets its catch-up a page per drain, then the live events', () => {
    const journal = journalOf(2000);
    const eventBytes = JSON.stringify(journal.since(0, 1)[0]).length + 40;
    const pageBytes = 8 * 1024;
    // A page's budget counts the events' JSON; each frame adds its `id:` and `event:` lines.
    const bound = pageBytes * 1.25 + eventBytes;
    const hub = new StreamHub(journal, { maxClients: 4, heartbeatMs: 60_000, maxBufferedBytes: 1024 * 1024, pageBytes });
    const res = new StalledResponse();
    hub.open(res as unknown as ServerResponse, { after: 0 });
    // Until the socket drains, the server has made one page and no more.
    expect(res.cycles[0]!).toBeLessThanOrEqual(bound);
    let guard = 0;
    while (res.ids().at(-1) !== 2000 && guard++ < 10_000) res.drain();
    expect(Math.max(...res.cycles)).toBeLessThanOrEqual(bound);
    // As many drain cycles as pages: the history was never written in one go.
    const jsonBytes = eventBytes - 40;
    expect(res.cycles.length).toBeGreaterThanOrEqual(Math.floor((2000 * jsonBytes) / (pageBytes + jsonBytes)));
    res.drain();
    journal.append([event(2001)]);
    expect(res.ids()).toEqual(Array.from({ length: 2001 }, (_, i) => i + 1));
    hub.close();
  });

  it('takes events filed while it catches up from the journal, once each', () => {
    const journal = journalOf(500);
    const hub = new StreamHub(journal, { maxClients: 4, heartbeatMs: 60_000, maxBufferedBytes: 1024 * 1024, pageBytes: 2048 });
    const res = new StalledResponse();
    hub.open(res as unknown as ServerResponse, { after: 100 });
    for (let id = 501; id <= 600; id++) {
      journal.append([event(id)]);
      res.drain();
    }
    while (res.ids().at(-1) !== 600) res.drain();
    expect(res.ids()).toEqual(Array.from({ length: 500 }, (_, i) => i + 101));
    hub.close();
  });


  it('ends only that stream when its catch-up cannot be read', () => {
    const broken = new Journal({
      maxEvents: 100,
      bodies: {
        keep: (_json, events) => [...events],
        read: () => {
          throw new Error('EIO: i/o error, read');
        },
      },
    });
    broken.append([event(1), event(2)]);
    const hub = new StreamHub(broken, { maxClients: 4, heartbeatMs: 60_000, maxBufferedBytes: 1024 * 1024 });
    const res = new StalledResponse();
    expect(() => hub.open(res as unknown as ServerResponse, { after: 0 })).not.toThrow();
    expect(res.destroyed).toBe(true);
    expect(hub.counters.dropped.unreadable).toBe(1);
    hub.close();
  });
});

describe('a history answer', () => {
  it('is read from the journal a page at a time, as the consumer reads', async () => {
    const journal = journalOf(3000);
    const pageBytes = 4096;
    const body = pagedEvents(journal, { head: '{"events":[', tail: ']}' }, 10, { limit: 2500 }, pageBytes);
    const chunks: string[] = [];
    for await (const chunk of body) chunks.push(String(chunk));
    const eventBytes = JSON.stringify(journal.since(0, 1)[0]).length + 1;
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(pageBytes + eventBytes + 1);
    const answer = JSON.parse(chunks.join('')) as { events: WatchEvent[] };
    expect(answer.events.map((e) => e.id)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 11));
  });

  it('filters by operation across pages', async () => {
    const journal = journalOf(300);
    const body = pagedEvents(journal, { head: '[', tail: ']' }, 0, { operationId: 'restore-1' }, 512);
    let text = '';
    for await (const chunk of body) text += String(chunk);
    expect((JSON.parse(text) as WatchEvent[]).map((e) => e.id)).toEqual(journal.eventsOf('restore-1').map((e) => e.id));
    expect(journal.eventsOf('restore-1')).toHaveLength(100);
  });
});
