import { connect, createServer, type Server, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';
import { cli } from './cli.js';

/** For polls that wait on a spawned process: starting node takes seconds on a loaded machine. */
export const SLOW = { timeout: 20_000, interval: 50 };

/** `restore-watcher watch …` running, with what it has printed so far. */
export interface WatchRun {
  child: ReturnType<typeof cli>;
  stdout(): string;
  stderr(): string;
  /** Parsed stdout lines, for --json. */
  json<T = { id: number; type: string }>(): T[];
}

/** `restore-watcher watch ARGS` inside a test: killed when the test ends, if it has not exited by then. */
export function startWatch(args: string[], env: Record<string, string> = {}): WatchRun {
  // No password from the environment unless a test gives one.
  const child = cli(['watch', ...args], { env: { RESTORE_WATCHER_PASSWORD: '', NO_COLOR: '', ...env } });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    json: <T>() =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as T),
  };
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy on 127.0.0.1:0 in front of `target`, that a test can cut: all open
 * connections at once, or in the middle of the next chunk from upstream; and that
 * can turn new connections away for a while.
 */
export class CuttableProxy {
  readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private blocked = false;
  private cutNext = false;
  accepted = 0;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  get open(): number {
    return this.pairs.size;
  }

  /** New connections are closed at once until `unblock()`. */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
  }

  /** Cuts every open connection now. */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** The next chunk from upstream is passed on only in part, then every connection is cut. */
  cutInNextChunk(): void {
    this.cutNext = true;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (this.cutNext) {
        this.cutNext = false;
        client.write(d.subarray(0, Math.max(1, Math.floor(d.length / 2))), () => this.cutAll());
        return;
      }
      client.write(d);
    });
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  }
}
