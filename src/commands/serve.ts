/**
 * `restore-watcher serve`: the agent as it runs on the VM. Reads the config once,
 * lets flags override it, starts the service and stops it cleanly on SIGTERM or
 * SIGINT (bpm sends SIGTERM and kills about 20 s later; we are done well before).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, readConfigJson, type Config } from '../config.js';
import { DEFAULT_LOG_PATH, DEFAULT_PORT, DEFAULT_STATE_DIR } from '../defaults.js';
import { RestoreWatcherError } from '../errors.js';
import { startService, type RunningService } from '../service.js';
import { wantsColour } from '../watch/render.js';
import { HELP_FLAG, helpShown, parseFlags, parsePort, passwordFromEnv, type Command } from './flags.js';
import { agentLogger, logFormat } from './log-format.js';

const SYNOPSIS = 'restore-watcher serve [--config FILE] [--log PATH] [--host ADDR] [--port N] [--state-dir DIR] [--log-format pretty|json]';

const SERVE_HELP = `Usage: ${SYNOPSIS}

Follows the backup-agent log and serves restore and backup progress over HTTP.
Flags override the config file; the config file overrides the defaults.

  --config FILE     JSON config file (see README: Configuration). Partial files are fine.
  --log PATH        The log to follow (default ${DEFAULT_LOG_PATH}).
  --host ADDR       Address to listen on (default 127.0.0.1).
  --port N          Port to listen on (default ${DEFAULT_PORT}).
  --state-dir DIR   Where the agent keeps its checkpoint and event journal
                    (default ${DEFAULT_STATE_DIR}, which needs root).
  --log-format F    How the agent's own log lines look on stdout: pretty (time,
                    level, message) or json (one object a line). Default: pretty on
                    a terminal, json otherwise.

The password for HTTP Basic auth comes from the config (auth.password) or the
RESTORE_WATCHER_PASSWORD environment variable. With a password every route but
/healthz needs it; without one, serve only listens on a loopback address.

Routes: GET / (text for curl, a live page for browsers), /status, /restores,
/restores/:id, /backups, /backups/:id, /events?after=ID&limit=N&type=T,
/events/stream (Server-Sent Events), /metrics (Prometheus), /healthz.
`;

export const serveCommand: Command = {
  synopsis: SYNOPSIS,
  summary: 'Follow the log and serve status, history and a live event stream over HTTP.',
  help: SERVE_HELP,
  run: serve,
};

async function serve(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      config: { type: 'string' },
      log: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      'log-format': { type: 'string' },
      ...HELP_FLAG,
    },
    false,
  );
  const shown = helpShown(values, SERVE_HELP);
  if (shown !== null) return shown;
  const isTTY = process.stdout.isTTY === true;
  const format = logFormat(values['log-format'], isTTY);
  const config = await resolveConfig(values);
  await assertLogPathUsable(config.log.path);
  const logger = await agentLogger({ format, colour: format === 'pretty' && wantsColour(isTTY, process.env) });
  // Signals are handled from the start: one during the first read of a long log
  // must not kill the process by signal.
  let service: RunningService | null = null;
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      // A second signal while closing changes nothing (and must not kill the process by signal).
      if (stopping) return;
      stopping = true;
      process.stderr.write(`restore-watcher: ${signal}: shutting down\n`);
      if (service === null) {
        // Still starting (locking, loading, reading the log for the first time): what is on disk
        // is consistent at every moment (it survives kill -9), so leaving now loses nothing.
        process.exit(0);
      }
      // A stuck close must not outlive the supervisor's patience; the state on disk is consistent.
      setTimeout(() => {
        process.stderr.write('restore-watcher: shutdown took too long; exiting\n');
        process.exit(0);
      }, 4500).unref();
      void service.close().then(resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  service = await withStateDirHint(config, () => startService(config, logger !== null ? { logger } : {}));
  process.stderr.write(`restore-watcher: following ${config.log.path}, serving ${service.url}\n`);
  await stopped;
  return 0;
}

/**
 * A log path that names a directory would be retried for ever, with the agent
 * looking healthy: refuse it at once. A path that does not exist yet is fine (the
 * agent waits for the file); what happens to the file later is the follower's to report.
 */
export async function assertLogPathUsable(path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (s?.isDirectory() === true) {
    throw new RestoreWatcherError(
      'RW_FILE_UNREADABLE',
      `${path}: is a directory; --log (log.path) names the log file itself, e.g. ${join(path, 'production.log')}`,
    );
  }
}

/** The default state directory is the BOSH job's, which a user other than root cannot create: say what to do. */
async function withStateDirHint(config: Config, start: () => Promise<RunningService>): Promise<RunningService> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof RestoreWatcherError && err.code === 'RW_STATE_DIR' && config.stateDir === DEFAULT_STATE_DIR) {
      throw new RestoreWatcherError(
        'RW_STATE_DIR',
        `${err.message} (the default, made for the BOSH job, which runs as root; give --state-dir DIR, e.g. --state-dir ~/.restore-watcher)`,
        { cause: err },
      );
    }
    throw err;
  }
}

interface ServeFlags {
  config?: string | undefined;
  log?: string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  'state-dir'?: string | undefined;
}

/** Defaults ← config file ← flags ← RESTORE_WATCHER_PASSWORD, validated once. */
export async function resolveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const source = flags.config ?? 'configuration';
  const file = flags.config !== undefined ? await readConfigJson(flags.config) : {};
  if (!isObject(file)) return parseConfig(file, source);
  const input: Record<string, unknown> = structuredClone(file);
  /** The named section, created when absent; null when it is there but not an object (zod will say so). */
  const section = (name: string): Record<string, unknown> | null => {
    input[name] ??= {};
    const value = input[name];
    return isObject(value) ? value : null;
  };
  const set = (name: string, key: string, value: unknown): void => {
    const target = section(name);
    if (target !== null) target[key] = value;
  };
  if (flags.log !== undefined) set('log', 'path', flags.log);
  if (flags.host !== undefined) set('http', 'host', flags.host);
  if (flags.port !== undefined) set('http', 'port', parsePort('--port', flags.port));
  if (flags['state-dir'] !== undefined) input.stateDir = flags['state-dir'];
  const password = passwordFromEnv(env);
  const auth = section('auth');
  if (password !== null && auth !== null && (auth.password ?? null) === null) {
    auth.password = password;
  }
  return parseConfig(input, source);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
