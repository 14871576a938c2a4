/**
 * `restore-watcher serve`: the agent as it runs on the VM. Reads the config once,
 * lets flags override it, starts the service and stops it cleanly on SIGTERM or
 * SIGINT (bpm sends SIGTERM and kills about 20 s later; we are done well before).
 */
import { parseConfig, readConfigJson, type Config } from '../config.js';
import { DEFAULT_LOG_PATH, DEFAULT_PORT, DEFAULT_STATE_DIR } from '../defaults.js';
import { startService, type RunningService } from '../service.js';
import { HELP_FLAG, helpShown, parseFlags, parsePort, passwordFromEnv, type Command } from './flags.js';

const SERVE_HELP = `Usage: restore-watcher serve [--config FILE] [--log PATH] [--host ADDR] [--port N] [--state-dir DIR]

Follows the backup-agent log and serves restore and backup progress over HTTP.
Flags override the config file; the config file overrides the defaults.

  --config FILE     JSON config file (see README: Configuration). Partial files are fine.
  --log PATH        The log to follow (default ${DEFAULT_LOG_PATH}).
  --host ADDR       Address to listen on (default 127.0.0.1).
  --port N          Port to listen on (default ${DEFAULT_PORT}).
  --state-dir DIR   Where the agent keeps its checkpoint and event journal
                    (default ${DEFAULT_STATE_DIR}).

The password for HTTP Basic auth comes from the config (auth.password) or the
RESTORE_WATCHER_PASSWORD environment variable. With a password every route but
/healthz needs it; without one, serve only listens on a loopback address.

Routes: GET / (text for curl, a live page for browsers), /status, /restores,
/restores/:id, /backups, /backups/:id, /events?after=ID&limit=N&type=T,
/events/stream (Server-Sent Events), /metrics (Prometheus), /healthz.
`;

export const serveCommand: Command = {
  synopsis: 'restore-watcher serve [--config FILE] [--log PATH] [--host ADDR] [--port N] [--state-dir DIR]',
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
      ...HELP_FLAG,
    },
    false,
  );
  const shown = helpShown(values, SERVE_HELP);
  if (shown !== null) return shown;
  const config = await resolveConfig(values);
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
  service = await startService(config);
  process.stderr.write(`restore-watcher: following ${config.log.path}, serving ${service.url}\n`);
  await stopped;
  return 0;
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
