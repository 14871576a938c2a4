/**
 * Starts and stops the whole live service: the agent (tail → … → journal) and
 * the HTTP server in front of it. Used by `serve`, `demo` and the integration
 * tests, so they all run the same thing.
 */
import type { Logger } from 'pino';
import { Agent } from './agent/agent.js';
import { lockStateDir, StateDirKeeper } from './agent/state-lock.js';
import type { Config } from './config.js';
import { RestoreWatcherError } from './errors.js';
import { HookLedger } from './hooks/ledger.js';
import { HookRunner } from './hooks/runner.js';
import { createLogOutput, type LogOutput } from './log-output.js';
import type { WatchEvent } from './model.js';
import { forgottenBackups } from './report/forgotten.js';
import { ReadinessProbe } from './probe/readiness.js';
import { assertSecureBind } from './serve/auth.js';
import { buildServer, type WatcherServer } from './serve/server.js';
import { loadTls } from './serve/tls.js';

export interface RunningService {
  agent: Agent;
  /** Runs the configured hooks; null when none are configured. */
  hooks: HookRunner | null;
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
  // Before anything in the state directory is read or written: one agent per directory.
  // Taken again if the directory is deleted while the agent runs. The lock is held by a
  // child process (see state-lock.ts), which starts while the server is built: nothing
  // before `listen` reads or writes the directory, and the lock is held by then.
  const locking = lockStateDir(config.stateDir).then((held) => new StateDirKeeper(held));
  // Refused, it is thrown where it is awaited: until then it is not an unhandled rejection.
  locking.catch(() => undefined);
  let lock: StateDirKeeper | null = null;
  const checkLock = (): void => {
    if (lock === null) throw new Error(`state directory ${config.stateDir} is not locked yet`);
    lock.check();
  };
  const agent = new Agent({ config, logger, beforeWrite: checkLock, ...(options.now ? { now: options.now } : {}) });
  const probe = new ReadinessProbe(config.probe, options.now);
  const hooks = config.hooks.commands.length > 0 ? startHooks(config, agent, logger) : null;
  let server: WatcherServer | null = null;
  /** Undoes a start that failed: writes nothing, lets the lock go (taken or not, its child process ends). */
  const abandon = async (): Promise<void> => {
    await server?.app.close().catch(() => undefined);
    await hooks?.stop();
    await probe.stop();
    await agent.stop({ checkpoint: false });
    await (await locking.catch(() => null))?.release();
    logOutput?.close();
  };
  let url: string;
  let port: number;
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
      ...(hooks !== null ? { hooks: () => hooks.counters } : {}),
    });
    lock = await locking;
    // Listen before the state is loaded: a start that cannot listen has read and written nothing.
    ({ url, port } = await listen(server, config, tls !== null));
    // A write the state directory refuses is reported by the agent (persistence), never thrown.
    await agent.open();
    probe.start();
    // The server answers while a large log is read for the first time.
    await agent.follow();
    // After the first read, so that hooks due while the agent was down are found in the journal.
    hooks?.start(agent.journal);
  } catch (err) {
    await abandon();
    // A refused lock is said first, as when nothing else had started before it was taken.
    throw await locking.then(
      () => err,
      (refused: unknown) => refused,
    );
  }
  logger.info(
    { address: url, log: config.log.path, stateDir: config.stateDir, auth: config.auth.password !== null, tls: tls !== null },
    'restore-watcher listening',
  );
  const running = server;
  const held = lock;
  // Caught up: what /metrics needs is made now, off the start-up's path, if no scrape made it.
  setImmediate(() => void running.metrics.prepare().catch(() => undefined));
  let closing: Promise<void> | null = null;
  return {
    agent,
    hooks,
    server: running,
    probe,
    logOutput,
    url,
    port,
    close: () => {
      closing ??= (async () => {
        await running.app.close();
        await hooks?.stop();
        await probe.stop();
        await agent.stop();
        await held.release();
        logOutput?.close();
      })();
      return closing;
    },
  };
}

/** Listens; answers with the URL of the address actually bound (0.0.0.0 stays 0.0.0.0). */
async function listen(server: WatcherServer, config: Config, tls: boolean): Promise<{ url: string; port: number }> {
  try {
    await server.app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new RestoreWatcherError('RW_LISTEN_FAILED', `cannot listen on ${config.http.host}:${config.http.port}: ${why}`, {
      cause: err,
    });
  }
  const addr = server.app.server.address();
  if (typeof addr !== 'object' || addr === null) return { url: `${tls ? 'https' : 'http'}://${config.http.host}:${config.http.port}`, port: config.http.port };
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return { url: `${tls ? 'https' : 'http'}://${host}:${addr.port}`, port: addr.port };
}

/** The hook runner for the configured hooks (it loads execa itself, at the first run). */
function startHooks(config: Config, agent: Agent, logger: Logger): HookRunner {
  return new HookRunner(config.hooks, {
    ledger: new HookLedger(config.stateDir),
    logger,
    moreEnvironment: forgottenEnvironment(agent, new RegExp(config.track.rules.backupIdPattern)),
  });
}

/**
 * For the hooks of a restore's end: RESTORE_WATCHER_FORGOTTEN_BACKUPS, the backups
 * (their ids, or operation ids) the Backup Manager no longer knows after it, space
 * separated, and RESTORE_WATCHER_FORGOTTEN_BASIS, `named` or `unidentified`.
 */
function forgottenEnvironment(agent: Agent, pattern: RegExp): (event: WatchEvent) => Record<string, string> {
  return (event): Record<string, string> => {
    const op = event.operation;
    if (op.kind !== 'restore' || op.finishedAt === null) return {};
    const report = forgottenBackups(op, agent.journal.allOperations(), pattern);
    return {
      RESTORE_WATCHER_FORGOTTEN_BACKUPS: report.forgottenBackups.map((b) => b.backupId ?? b.operationId).join(' '),
      RESTORE_WATCHER_FORGOTTEN_BASIS: report.basis,
    };
  };
}
