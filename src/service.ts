/**
 * Starts and stops the whole live service: the agent (tail → … → journal) and
 * the HTTP server in front of it. Used by `serve`, `demo` and the integration
 * tests, so they all run the same thing.
 */
import type { Logger } from 'pino';
import { Agent } from './agent.js';
import type { Config } from './config.js';
import { RestoreWatcherError } from './errors.js';
import { createLogOutput, type LogOutput } from './log-output.js';
import { ReadinessProbe } from './probe/readiness.js';
import { assertSecureBind } from './serve/auth.js';
import { buildServer, type WatcherServer } from './serve/server.js';
import { loadTls } from './serve/tls.js';

export interface RunningService {
  agent: Agent;
  server: WatcherServer;
  probe: ReadinessProbe;
  /** The agent's own log on stdout, bounded; null when the caller gave a logger. */
  logOutput: LogOutput | null;
  /** Base URL the server listens on, e.g. http://127.0.0.1:9465 */
  url: string;
  port: number;
  /** Ends streams, stops accepting, stops probing, stops following (in that order); resolves when all is closed. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  now?: () => number;
}

export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const logOutput = options.logger === undefined ? createLogOutput() : null;
  const logger = options.logger ?? logOutput!.logger;
  // Refuse an unsafe or broken setup before anything starts.
  assertSecureBind(config);
  const tls = await loadTls(config.http.tls);
  const agent = new Agent({ config, logger, ...(options.now ? { now: options.now } : {}) });
  // open() creates the state directory; a failure there is RW_STATE_DIR.
  await inStateDir(config, () => agent.open(), () => agent.stop({ checkpoint: false }));
  const probe = new ReadinessProbe(config.probe, options.now);
  let server: WatcherServer;
  try {
    server = await buildServer({
      config,
      journal: agent.journal,
      status: () => agent.status(),
      logger,
      probe: () => probe.status(),
      tls,
      ...(options.now ? { now: options.now } : {}),
      ...(logOutput !== null ? { logOutput: () => logOutput.counters } : {}),
    });
  } catch (err) {
    await agent.stop();
    throw err;
  }
  let address: string;
  try {
    address = await server.app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await agent.stop();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new RestoreWatcherError('RW_LISTEN_FAILED', `cannot listen on ${config.http.host}:${config.http.port}: ${why}`, {
      cause: err,
    });
  }
  const addr = server.app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.http.port;
  probe.start();
  // The server answers while a large log is read for the first time.
  await inStateDir(config, () => agent.follow(), () => server.app.close().then(() => agent.stop({ checkpoint: false })));
  logger.info(
    { address, log: config.log.path, stateDir: config.stateDir, auth: config.auth.password !== null, tls: tls !== null },
    'restore-watcher listening',
  );
  let closing: Promise<void> | null = null;
  return {
    agent,
    server,
    probe,
    logOutput,
    url: address,
    port,
    close: () => {
      closing ??= (async () => {
        await server.app.close();
        await probe.stop();
        await agent.stop();
        logOutput?.close();
      })();
      return closing;
    },
  };
}

/** Runs `step`; an error about a file in the state directory becomes RW_STATE_DIR after `undo`. */
async function inStateDir(config: Config, step: () => Promise<void>, undo: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    const path = (err as NodeJS.ErrnoException).path;
    if (typeof path !== 'string' || !path.startsWith(config.stateDir)) throw err;
    await undo().catch(() => undefined);
    throw new RestoreWatcherError('RW_STATE_DIR', `state directory ${config.stateDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
