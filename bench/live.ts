/**
 * What the live scenarios share: starting `restore-watcher serve` on 127.0.0.1
 * with a free port and its own config and state dir, stream clients that note
 * when each marked line arrives, and `tail -F` as the reference reader.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { accessLine } from '../src/log-lines.js';
import type { BenchContext } from './scenario.js';

export const HOST = '127.0.0.1';

/** A port nothing listens on right now (bound once on 127.0.0.1 and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningServe {
  child: ChildProcess;
  pid: number;
  url: string;
  /** performance.now() when the process was spawned. */
  startedAt: number;
  /** Bytes of the agent's own log read from its stdout so far. */
  stdoutBytes(): number;
  /** Resolves with performance.now() when the agent's log first holds `text` (a message), or null if it exits before. */
  logged(text: string): Promise<number | null>;
  /** The state directory. */
  stateDir: string;
  /** How the process ended (`exit 1`, `SIGABRT`) and its last stderr, or null while it runs. */
  died(): string | null;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

/** Node.js flags the BOSH job runs the agent with (bpm.yml.erb), so the agent is measured as deployed. */
export const AGENT_NODE_FLAGS = ['--max-old-space-size=384', '--max-semi-space-size=2'];

/** Starts `restore-watcher serve` following `logPath`; resolves once spawned (not yet listening). */
export async function startServe(
  ctx: BenchContext,
  name: string,
  logPath: string,
  extra: { http?: Record<string, unknown>; journal?: Record<string, unknown>; stateDir?: string; nodeFlags?: string[] } = {},
): Promise<RunningServe> {
  const port = await freePort();
  const config = join(ctx.workDir, `${name}.json`);
  const stateDir = extra.stateDir ?? join(ctx.workDir, `${name}-state`);
  writeFileSync(
    config,
    JSON.stringify({
      log: { path: logPath },
      http: { host: HOST, port, ...extra.http },
      stateDir,
      ...(extra.journal ? { journal: extra.journal } : {}),
    }),
  );
  const startedAt = performance.now();
  // The agent logs as JSON on stdout; read through a pipe and thrown away, as bpm's log forwarder does.
  // No password: the scenarios measure the open loopback agent, whatever the caller's environment says.
  const env = { ...process.env, RESTORE_WATCHER_PASSWORD: '' };
  const child = spawn(ctx.node, [...(extra.nodeFlags ?? AGENT_NODE_FLAGS), ctx.bin, 'serve', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stdoutBytes = 0;
  /** The end of what was read, so that a message split across two reads is found. */
  let tail = '';
  const waiting: { text: string; resolve: (at: number | null) => void }[] = [];
  child.stdout!.on('data', (b: Buffer) => {
    stdoutBytes += b.length;
    if (waiting.length === 0) return;
    const at = performance.now();
    tail = tail.slice(-256) + b.toString();
    for (const w of waiting.filter((w) => tail.includes(`"msg":"${w.text}"`))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(at);
    }
  });
  child.once('exit', () => waiting.splice(0).forEach((w) => w.resolve(null)));
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    if (stderr.length < 8192) stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    url: `http://${HOST}:${port}`,
    startedAt,
    stdoutBytes: () => stdoutBytes,
    logged: (text) => new Promise((resolve) => waiting.push({ text, resolve })),
    stateDir,
    died: () => {
      if (child.exitCode === null && child.signalCode === null) return null;
      const how = child.signalCode ?? `exit ${child.exitCode}`;
      const last = stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1) ?? '';
      return `${how}${last === '' ? '' : ` (${last.slice(0, 160)})`}`;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** GET `url` as JSON; null when nothing answers (yet). */
export function getJson<T>(url: string, timeoutMs = 2000): Promise<{ status: number; body: T } | null> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: timeoutMs }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** Waits until `ready()` holds, checking every `everyMs`; false when the deadline passes first. */
export async function waitFor(ready: () => boolean | Promise<boolean>, deadlineMs: number, everyMs = 10): Promise<boolean> {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    if (await ready()) return true;
    await sleep(everyMs);
  }
  return ready();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Written lines carry `mark-PHASE-SEQ` (as the Rack user), so every reader can say which line it got. */
export const marker = (phase: number, seq: number): string => `mark-${phase}-${seq}`;
const MARK = /mark-(\d+)-(\d+)/g;

/** Arrival times (performance.now()) of the marked lines of one phase, with repeats counted. */
export class Arrivals {
  readonly at = new Map<number, number>();
  repeats = 0;

  constructor(readonly phase: number) {}

  /** Notes every marker of this phase in `text`, received now. */
  take(text: string): void {
    const now = performance.now();
    for (const m of text.matchAll(MARK)) {
      if (Number(m[1]) !== this.phase) continue;
      const seq = Number(m[2]);
      if (this.at.has(seq)) this.repeats++;
      else this.at.set(seq, now);
    }
  }
}

/** One client of GET /events/stream that reads every frame as it comes. */
export class StreamClient {
  connected = false;
  bytes = 0;
  private buffer = '';
  private readonly req;

  constructor(url: string, public arrivals: Arrivals) {
    this.req = request(`${url}/events/stream`, { headers: { Accept: 'text/event-stream' }, agent: false }, (res) => {
      this.connected = res.statusCode === 200;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.bytes += chunk.length;
        // Only whole frames, so a marker is never read in two halves.
        this.buffer += chunk;
        const end = this.buffer.lastIndexOf('\n\n');
        if (end === -1) return;
        this.arrivals.take(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 2);
      });
      res.on('error', () => undefined);
    });
    this.req.on('error', () => undefined);
    this.req.end();
  }

  close(): void {
    this.req.destroy();
  }
}

/** A client that asks for the stream and then never reads a byte of it. */
export function neverReadingClient(url: string): { socket: Socket; closed: () => boolean } {
  const { hostname, port } = new URL(url);
  let closed = false;
  const socket = connect({ host: hostname, port: Number(port) }, () => {
    socket.write(`GET /events/stream HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
    socket.pause();
  });
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, closed: () => closed };
}

/** `tail -F -n 0 FILE`, the reference reader, noting arrivals like a stream client. */
export function tailF(file: string, arrivals: Arrivals): { child: ChildProcess; stop(): void } {
  const child = spawn('tail', ['-F', '-n', '0', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    const end = buffer.lastIndexOf('\n');
    if (end === -1) return;
    arrivals.take(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
  });
  return { child, stop: () => void child.kill('SIGTERM') };
}

/** A Rack access line for `POST /v1/order` that carries a marker. */
export function markedOrderLine(mark: string, stamp = '20/Nov/2018:12:00:05 +0000'): string {
  return `${accessLine({ host: '172.28.19.51', user: mark, stamp, method: 'POST', target: '/v1/order', status: 200, size: 13, durationSeconds: 0.7541 })}\n`;
}

/** The accepted restore request that makes every later order poll an event. */
export function restoreRequestLine(stamp = '20/Nov/2018:12:00:00 +0000'): string {
  return `${accessLine({ host: '172.28.19.56', user: 'admin', stamp, method: 'POST', target: '/v1/restore', status: 200, size: 21, durationSeconds: 0.0023 })}\n`;
}
