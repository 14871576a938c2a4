/**
 * What the memory scenarios share: a log where nearly every line is an event (one
 * restore whose Backup Manager polls `POST /v1/order` without end, with progress
 * messages, some of them long, one in ten thousand 60 KB), a stream client that
 * counts what it got, and an RSS sampler.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { vmRss } from './measure.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG = 'x'.repeat(4 * 1024);
const HUGE = 'y'.repeat(60 * 1024);

/** Line `i` (from 0) of the event-heavy log: line 0 asks for the restore, every later one is an event of it. */
export function pollLine(i: number, start = Date.UTC(2018, 10, 20, 12, 0, 0), perSecond = 5000): string {
  const t = new Date(start + Math.floor(i / perSecond) * 1000);
  const access = `${pad(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
  if (i === 0) return `172.28.19.56 - admin [${access}] "POST /v1/restore HTTP/1.1" 200 21 0.0023`;
  if (i % 100 === 0) {
    const iso = `${t.toISOString().slice(0, 19)}.${pad(i % 1_000_000, 6)}`;
    const text = i % 10_000 === 0 ? `restore step ${i}: ${HUGE}` : `restore step ${i}: ${LONG}`;
    return `I, [${iso} #31554]  INFO -- : ${text}`;
  }
  return `172.28.19.51 - poll-${i} [${access}] "POST /v1/order HTTP/1.1" 200 13 0.7541`;
}

/** Writes lines [from, to) of the event-heavy log to `path` (appending), in large writes. */
export function writePolls(path: string, from: number, to: number): void {
  const fd = openSync(path, 'a');
  try {
    let batch = '';
    for (let i = from; i < to; i++) {
      batch += `${pollLine(i)}\n`;
      if (batch.length > 4 * 1024 * 1024) {
        writeSync(fd, batch);
        batch = '';
      }
    }
    if (batch !== '') writeSync(fd, batch);
  } finally {
    closeSync(fd);
  }
}

/** A client of GET /events/stream?after=N that keeps nothing but the newest id and the bytes it got. */
export class CountingStream {
  status = 0;
  bytes = 0;
  lastId = 0;
  ended = false;
  /** Why the request failed, if it did. */
  error: string | null = null;
  private tail = '';
  private readonly req;
  private res: import('node:http').IncomingMessage | null = null;

  /** With `paused`, the answer is not read until `resume()`: many clients can send their requests before any reads. */
  constructor(url: string, after: number | null, paused = false) {
    const path = after === null ? '/events/stream' : `/events/stream?after=${after}`;
    this.req = request(`${url}${path}`, { headers: { Accept: 'text/event-stream' }, agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      this.res = res;
      if (paused) res.pause();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.bytes += chunk.length;
        // Only the last few hundred characters are kept: enough for an `id:` line cut in two.
        const text = this.tail + chunk;
        const ids = text.match(/^id: \d+$/gm);
        if (ids !== null) this.lastId = Number(ids.at(-1)!.slice(4));
        this.tail = text.slice(-256);
      });
      res.on('close', () => (this.ended = true));
      res.on('error', (err) => {
        this.error ??= err.message;
        this.ended = true;
      });
    });
    this.req.on('error', (err) => {
      this.error ??= err.message;
      this.ended = true;
    });
    this.req.end();
  }

  resume(): void {
    this.res?.resume();
  }

  close(): void {
    this.req.destroy();
  }
}

/** GET `url` and count the bytes of the answer without keeping them; resolves with the status and byte count. */
export function countAnswer(url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (b: Buffer) => (bytes += b.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', () => resolve({ status: 0, bytes }));
    });
    req.on('error', () => resolve({ status: 0, bytes: 0 }));
    req.end();
  });
}

/** The value of one sample in the agent's /metrics (name with labels, as printed), or null. */
export async function metric(url: string, name: string): Promise<number | null> {
  const text = await new Promise<string>((resolve) => {
    const req = request(`${url}/metrics`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(''));
    });
    req.on('error', () => resolve(''));
    req.end();
  });
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

/** Samples a process's VmRSS every `everyMs` until stopped. */
export class RssSampler {
  readonly samples: Array<{ t: number; rss: number }> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();

  constructor(pid: number, everyMs = 500) {
    this.timer = setInterval(() => {
      const rss = vmRss(pid);
      if (rss !== null) this.samples.push({ t: (performance.now() - this.started) / 1000, rss });
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Growth between the first and the last sample taken at or after `from` seconds. */
  growthSince(from: number): number {
    const later = this.samples.filter((s) => s.t >= from);
    return later.length > 1 ? later.at(-1)!.rss - later[0]!.rss : 0;
  }

  /** About a dozen samples, for a table. */
  rows(mb: (b: number) => string): string[][] {
    const every = Math.max(1, Math.floor(this.samples.length / 12));
    return this.samples.filter((_, i) => i % every === 0 || i === this.samples.length - 1).map((s) => [s.t.toFixed(1), mb(s.rss)]);
  }
}
