import { describe, expect, it } from 'vitest';
import { backoffDelay, EventStreamClient, type Clock } from '../../src/watch/stream-client.js';
import type { HttpHandlers, Transport } from '../../src/watch/transport.js';
import type { WatchInput } from '../../src/watch/watch-state.js';

/** Timers that fire only when the test moves the time. */
class FakeClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = until;
  }
  get pending(): number {
    return this.timers.length;
  }
}

interface FakeRequest {
  path: string;
  headers: Record<string, string>;
  handlers: HttpHandlers;
  closed: boolean;
}

/** Records requests; the test answers them. */
class FakeAgent {
  readonly requests: FakeRequest[] = [];
  transport: Transport = (url, headers, handlers) => {
    const r: FakeRequest = { path: url.pathname, headers, handlers, closed: false };
    this.requests.push(r);
    return { close: () => void (r.closed = true) };
  };
  get last(): FakeRequest {
    return this.requests.at(-1)!;
  }
  answerStatus(lastEventId: number): void {
    const r = this.last;
    expect(r.path).toMatch(/\/status$/);
    r.handlers.response({ status: 200, headers: { 'content-type': 'application/json' } });
    r.handlers.data(JSON.stringify({ state: 'idle', lastEventId }));
    r.handlers.end();
  }
  openStream(): FakeRequest {
    const r = this.last;
    expect(r.path).toMatch(/\/events\/stream$/);
    r.handlers.response({ status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
    r.handlers.data('retry: 2000\n\n');
    return r;
  }
}

const frame = (id: number, extra: Record<string, unknown> = {}): string =>
  `id: ${id}\nevent: restore.progress\ndata: ${JSON.stringify({ id, type: 'restore.progress', operation: { id: 'restore-1', kind: 'restore' }, ...extra })}\n\n`;

function setup(options: { password?: string | null; url?: string } = {}) {
  const clock = new FakeClock();
  const agent = new FakeAgent();
  const inputs: WatchInput[] = [];
  const client = new EventStreamClient(
    { url: new URL(options.url ?? 'http://agent:9465'), user: 'admin', password: options.password ?? null, heartbeatMs: 15_000 },
    { transport: agent.transport, clock, random: () => 1 },
    (input) => inputs.push(input),
  );
  const kinds = (): string[] => inputs.map((i) => i.kind);
  const events = (): number[] => inputs.flatMap((i) => (i.kind === 'event' ? [i.event.id] : []));
  return { clock, agent, inputs, client, kinds, events };
}

describe('backoffDelay', () => {
  it.each([
    [1, 1, 500],
    [1, 0, 250],
    [2, 1, 1000],
    [3, 1, 2000],
    [5, 1, 8000],
    [6, 1, 15_000],
    [60, 1, 15_000],
    [60, 0, 7500],
  ])('failure %i, random %d: %i ms', (failures, random, ms) => {
    expect(backoffDelay(failures, random)).toBe(ms);
  });
});

describe('EventStreamClient', () => {
  it('asks for the baseline, opens the stream for the latest restore, and resumes after a drop with Last-Event-ID', () => {
    const { clock, agent, client, kinds, events, inputs } = setup();
    client.start();
    agent.answerStatus(5);
    expect(agent.last.headers['Last-Event-ID']).toBeUndefined();
    const s = agent.openStream();
    s.handlers.data(frame(4) + frame(5).slice(0, 20));
    s.handlers.data(frame(5).slice(20) + ': heartbeat\n\n' + frame(6));
    s.handlers.end();
    expect(kinds()).toEqual(['connecting', 'baseline', 'connected', 'event', 'event', 'event', 'lost']);
    expect(inputs.at(-1)).toEqual({ kind: 'lost', reason: 'the agent closed the connection', retryInMs: 500 });

    clock.advance(499);
    expect(agent.requests).toHaveLength(2);
    clock.advance(1);
    expect(agent.requests).toHaveLength(3);
    expect(agent.last.path).toBe('/events/stream');
    expect(agent.last.headers['Last-Event-ID']).toBe('6');
    agent.openStream().handlers.data(frame(7));
    expect(events()).toEqual([4, 5, 6, 7]);
    expect(inputs.filter((i) => i.kind === 'connected')).toEqual([
      { kind: 'connected', after: null },
      { kind: 'connected', after: 6 },
    ]);
    client.stop();
    expect(clock.pending).toBe(0);
  });

  it('resumes after the baseline when the first stream brought no event', () => {
    const { clock, agent, client } = setup();
    client.start();
    agent.answerStatus(41);
    agent.openStream().handlers.end();
    clock.advance(500);
    expect(agent.last.headers['Last-Event-ID']).toBe('41');
    client.stop();
  });

  it('gives up on a connection silent for three heartbeat periods, and a heartbeat keeps it alive', () => {
    const { clock, agent, client, inputs } = setup();
    client.start();
    agent.answerStatus(0);
    const s = agent.openStream();
    clock.advance(44_000);
    s.handlers.data(': heartbeat\n\n');
    clock.advance(44_000);
    expect(s.closed).toBe(false);
    clock.advance(1_000);
    expect(s.closed).toBe(true);
    expect(inputs.at(-1)).toEqual({ kind: 'lost', reason: 'no data for 45s', retryInMs: 500 });
    expect(client.counters.silent).toBe(1);
    client.stop();
  });

  it('treats a connection attempt that hangs like a silent one', () => {
    const { clock, agent, client, inputs } = setup();
    client.start();
    clock.advance(45_000);
    expect(agent.requests[0]!.closed).toBe(true);
    expect(inputs.at(-1)).toMatchObject({ kind: 'lost', reason: 'no data for 45s' });
    client.stop();
  });

  it('reconnects when the agent says it is shutting down', () => {
    const { clock, agent, client, inputs } = setup();
    client.start();
    agent.answerStatus(0);
    const s = agent.openStream();
    s.handlers.data(frame(1) + 'event: shutdown\ndata: {}\n\n' + frame(2));
    expect(s.closed).toBe(true);
    expect(inputs.at(-1)).toMatchObject({ kind: 'lost', reason: 'the agent is shutting down' });
    clock.advance(500);
    expect(agent.last.headers['Last-Event-ID']).toBe('1');
    client.stop();
  });

  it('waits as long as a busy agent asks before trying again, and then resumes', () => {
    const { clock, agent, client, inputs } = setup();
    client.start();
    agent.answerStatus(3);
    const s = agent.last;
    s.handlers.response({ status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
    s.handlers.data('event: busy\ndata: {"message":"too many stream clients; try again later","retryMs":4800}\n\nretry: 4800\n\n');
    expect(s.closed).toBe(true);
    expect(inputs.at(-1)).toEqual({
      kind: 'lost',
      reason: 'the agent is busy: too many stream clients; try again later',
      retryInMs: 4800,
    });
    const before = agent.requests.length;
    clock.advance(4799);
    expect(agent.requests).toHaveLength(before);
    clock.advance(1);
    expect(agent.requests).toHaveLength(before + 1);
    expect(agent.last.path).toMatch(/\/events\/stream$/);
    // Turned away is not connected; and the story so far is still asked for, since none came yet.
    expect(inputs.filter((i) => i.kind === 'connected')).toEqual([]);
    expect(agent.last.headers['Last-Event-ID']).toBeUndefined();
    client.stop();
  });

  it('backs off more after each failed attempt, and starts over once connected', () => {
    const { clock, agent, client, inputs } = setup();
    client.start();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 7; i++) {
      agent.last.handlers.error(refused);
      const lost = inputs.at(-1)!;
      clock.advance(lost.kind === 'lost' ? lost.retryInMs : NaN);
    }
    expect(agent.requests).toHaveLength(8);
    const delays = inputs.flatMap((i) => (i.kind === 'lost' ? [i.retryInMs] : []));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    expect(inputs.find((i) => i.kind === 'lost')).toMatchObject({ reason: 'connection refused (ECONNREFUSED)' });
    agent.answerStatus(0);
    agent.openStream().handlers.end();
    expect(inputs.at(-1)).toMatchObject({ kind: 'lost', retryInMs: 500 });
    client.stop();
  });

  it('stops on 401 and sends the credentials it was given', () => {
    const { clock, agent, client, inputs } = setup({ password: 's3cret' });
    client.start();
    expect(agent.last.headers.Authorization).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    agent.last.handlers.response({ status: 401, headers: { 'www-authenticate': 'Basic realm="restore-watcher"' } });
    expect(inputs.at(-1)).toEqual({ kind: 'rejected', user: 'admin', withPassword: true });
    clock.advance(3_600_000);
    expect(agent.requests).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('stops on an answer that says this is not an agent, and waits as told on 503', () => {
    const notFound = setup();
    notFound.client.start();
    notFound.agent.last.handlers.response({ status: 404, headers: {} });
    notFound.agent.last.handlers.end();
    expect(notFound.inputs.at(-1)).toMatchObject({ kind: 'refused', reason: expect.stringContaining('answered 404 Not Found') });

    const busy = setup();
    busy.client.start();
    busy.agent.answerStatus(0);
    busy.agent.last.handlers.response({ status: 503, headers: { 'retry-after': '5' } });
    expect(busy.inputs.at(-1)).toEqual({ kind: 'lost', reason: 'answered 503 Service Unavailable', retryInMs: 5000 });
    busy.client.stop();
  });

  it('reports missed events and skips frames that are not events', () => {
    const { agent, client, inputs } = setup();
    client.start();
    agent.answerStatus(0);
    agent.openStream().handlers.data('event: missed\ndata: {"missed":3,"firstAvailableId":10}\n\nid: 10\nevent: x\ndata: not json\n\n');
    expect(inputs.at(-1)).toEqual({ kind: 'missed', missed: 3, firstAvailableId: 10 });
    expect(client.counters.badFrames).toBe(1);
    client.stop();
  });

  it('on a reset, resumes from the agent\'s newest id instead of its own', () => {
    const { agent, client, inputs } = setup();
    client.start();
    agent.answerStatus(0);
    const first = agent.openStream();
    first.handlers.data('event: reset\ndata: {"lastEventId":4,"clientLastEventId":30}\n\n');
    expect(inputs.at(-1)).toEqual({ kind: 'reset', lastEventId: 4 });
    first.handlers.data('event: reset\ndata: {}\n\n');
    expect(client.counters.badFrames).toBe(1);
    client.stop();
  });

  it('keeps a path prefix of the URL', () => {
    const { agent, client } = setup({ url: 'https://proxy.example/agents/pg-0' });
    client.start();
    expect(agent.last.path).toBe('/agents/pg-0/status');
    agent.answerStatus(0);
    expect(agent.last.path).toBe('/agents/pg-0/events/stream');
    client.stop();
  });
});
