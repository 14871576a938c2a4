/**
 * Owns the server's connections: at most a cap open at once, whatever clients do,
 * so that a flood of idle, slow or unauthenticated connections can neither run the
 * process out of file descriptors (the journal, the checkpoint and the log need
 * theirs) nor keep `/healthz` out.
 *
 * Node's `server.maxConnections` refuses the newest connection once the cap is
 * reached, which during a flood is the health check. Hand-written here instead:
 * when a connection comes in at the cap, the oldest connection that has no request
 * in progress (it sent nothing yet, or waits between keep-alive requests) is closed
 * to make room; only when every connection is in the middle of a request is the
 * new one refused. Streams and requests in progress are never cut.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** File descriptors kept for everything but connections: state files, the log and its rotated copies, the probe. */
export const FD_RESERVE = 128;

export interface ConnectionCounters {
  /** Connections accepted since start. */
  accepted: number;
  /** Idle connections closed to make room for a new one. */
  evicted: number;
  /** New connections closed because every open one was busy. */
  refused: number;
}

/** The soft limit on open files (`ulimit -n`), or null where /proc does not say. */
export function openFileLimit(limits = '/proc/self/limits'): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(limits, 'utf8'));
    return m === null || m[1] === 'unlimited' ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** The configured cap, lowered to keep FD_RESERVE descriptors free below the open-file limit. */
export function connectionCap(configured: number, fdLimit: number | null): number {
  if (fdLimit === null) return configured;
  return Math.max(1, Math.min(configured, fdLimit - FD_RESERVE));
}

interface Tracked {
  socket: Socket;
  /** Requests in progress on it. */
  busy: number;
}

/** Keeps a server's open connections at or below `cap`, closing the oldest idle one to admit a new one. */
export class ConnectionGuard {
  readonly counters: ConnectionCounters = { accepted: 0, evicted: 0, refused: 0 };
  /** Open connections by remote address and port, oldest first. */
  private readonly open = new Map<string, Tracked>();
  /** Keys of the connections with no request in progress, longest idle first. */
  private readonly idle = new Set<string>();

  constructor(readonly cap: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Starts guarding `server`: call before it listens. */
  attach(server: Server): void {
    // TLS wraps the accepted socket in another; both have the same remote address and port.
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req, res) => {
      const key = keyOf(req.socket);
      const tracked = this.open.get(key);
      if (tracked === undefined) return;
      tracked.busy++;
      this.idle.delete(key);
      res.once('close', () => {
        tracked.busy--;
        if (tracked.busy === 0 && this.open.get(key) === tracked) this.idle.add(key);
      });
    });
  }

  private admit(socket: Socket): void {
    this.counters.accepted++;
    if (socket.remoteAddress === undefined) {
      // Gone before it was handed over.
      socket.destroy();
      return;
    }
    if (this.open.size >= this.cap) {
      const oldest = this.idle.values().next().value;
      if (oldest === undefined) {
        this.counters.refused++;
        socket.destroy();
        return;
      }
      this.counters.evicted++;
      this.open.get(oldest)?.socket.destroy();
      this.forget(oldest);
    }
    const key = keyOf(socket);
    const tracked: Tracked = { socket, busy: 0 };
    this.open.set(key, tracked);
    this.idle.add(key);
    socket.once('close', () => {
      if (this.open.get(key) === tracked) this.forget(key);
    });
  }

  private forget(key: string): void {
    this.open.delete(key);
    this.idle.delete(key);
  }
}

function keyOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
