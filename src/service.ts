/**
 * Starts and stops the whole live service: the agent (tail → … → journal) and
 * the HTTP server in front of it. Used by `serve`, `demo` and the integration
 * tests, so they all run the same thing.
 */
import pino, { type Logger } from 'pino';
import { Agent } from './agent.js';
import type { Config } from './config.js';
import { RestoreWatcherError } from './errors.js';
import { HookLedger } from './hooks/ledger.js';
import { HookRunner } from './hooks/runner.js';
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
  const logger = options.logger ?? pino({ level: 'info', base: { name: 'restore-watcher' } });
  // Refuse an unsafe or broken setup before anything starts.
  assertSecureBind(config);
  const tls = await loadTls(config.http.tls);
  const agent = new Agent({ config, logger, ...(options.now ? { now: options.now } : {}) });
  // open() creates the state directory; a failure there is RW_STATE_DIR.
  await inStateDir(config, () => agent.open(), () => agent.stop({ checkpoint: false }));
  const probe = new ReadinessProbe(config.probe, options.now);
  const hooks =
    config.hooks.commands.length > 0
      ? new HookRunner(config.hooks, {
          ledger: new HookLedger(config.stateDir),
          logger,
          moreEnvironment: forgottenEnvironment(agent, new RegExp(config.track.rules.backupIdPattern)),
        })
      : null;
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
      ...(hooks !== null ? { hooks: () => hooks.counters } : {}),
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
  // After the first read, so that hooks due while the agent was down are found in the journal.
  hooks?.start(agent.journal);
  logger.info(
    { address, log: config.log.path, stateDir: config.stateDir, auth: config.auth.password !== null, tls: tls !== null },
    'restore-watcher listening',
  );
  let closing: Promise<void> | null = null;
  return {
    agent,
    hooks,
    server,
    probe,
    url: address,
    port,
    close: () => {
      closing ??= (async () => {
        await server.app.close();
        await hooks?.stop();
        await probe.stop();
        await agent.stop();
      })();
      return closing;
    },
  };
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
