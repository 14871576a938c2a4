/**
 * The command line: picks the subcommand, parses its flags, and turns the
 * catalogue's errors into one line on stderr and an exit status. Anything else
 * that escapes is a bug and is shown as one.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { checkConfig } from './commands/check-config.js';
import { replayFile } from './commands/replay.js';
import { defaultConfig, loadConfigFile, parseConfig, type Config } from './config.js';
import { RestoreWatcherError } from './errors.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const USAGE = `restore-watcher ${VERSION}: follow a9s-pg restores and backups from the backup-agent's log

Usage:
  restore-watcher replay FILE [--json] [--timezone TZ] [--config FILE]
      Read a production.log once and tell the story of every restore and backup in it.
  restore-watcher serve [--config FILE] [--log PATH] [--host ADDR] [--port N] [--state-dir DIR]
      Follow the log and serve status, history and a live event stream over HTTP.
  restore-watcher demo [--port N]
      Write a simulated restore into a temporary log, serve it, and print curl commands to try.
  restore-watcher watch [--url URL] [--until-done] [--json] ...
      Follow a restore from a terminal or a script.
  restore-watcher check-config FILE
      Validate a config file: prints "ok" and exits 0, or lists every problem and exits 1.

Run "restore-watcher COMMAND --help" for a command's flags.
`;

const REPLAY_HELP = `Usage: restore-watcher replay FILE [--json] [--timezone TZ] [--config FILE]

Reads FILE (a backup-agent production.log) from start to end and prints a timeline
for each restore and backup: when it was requested and by whom, state changes,
logger messages, order polls (counted), and the failure message in full; then one
summary line per restore. Lines in neither log format are counted, never fatal.

  --json          Print the events as JSON Lines instead, one event per line and nothing
                  else: the same objects the live agent serves on /events.
  --timezone TZ   Zone the Ruby Logger timestamps were written in (default UTC, as on
                  BOSH stemcells), e.g. Europe/Berlin.
  --config FILE   Take the timezone and tracking rules from a config file.

Exit status: 0 when the file was read (whatever the restores' outcome), 66 when it
cannot be read, 64 on a usage error.
`;

const CHECK_HELP = `Usage: restore-watcher check-config FILE

Validates a JSON config file: prints "ok" and exits 0, or prints every problem
(the key and what was expected) and exits 1.
`;

type Command = (args: string[]) => Promise<number>;

/** Subcommands added by other modules register here (serve, demo, watch). */
export const commands: Record<string, Command> = {
  replay: runReplay,
  'check-config': runCheckConfig,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(USAGE);
      return name === undefined ? 64 : 0;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const command = commands[name] ?? (await loadCommand(name));
    if (command === undefined) throw new RestoreWatcherError('RW_USAGE', `unknown command "${name}" (see --help)`);
    return await command(rest);
  } catch (err) {
    if (err instanceof RestoreWatcherError) {
      process.stderr.write(`restore-watcher: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/** Commands with heavier imports (the HTTP server, the client) load only when asked for. */
async function loadCommand(name: string): Promise<Command | undefined> {
  switch (name) {
    case 'serve':
      return (await import('./commands/serve.js')).serveCommand;
    case 'demo':
      return (await import('./commands/demo.js')).demoCommand;
    case 'watch':
      return (await import('./commands/watch.js')).watchCommand;
    default:
      return undefined;
  }
}

/** parseArgs with the catalogue's usage error instead of a TypeError. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  allowPositionals: boolean,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new RestoreWatcherError('RW_USAGE', (err as Error).message.split('\n')[0]!);
  }
}

async function runReplay(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      json: { type: 'boolean', default: false },
      timezone: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new RestoreWatcherError('RW_USAGE', 'replay takes exactly one FILE (see replay --help)');
  let config: Config = values.config !== undefined ? await loadConfigFile(values.config) : defaultConfig();
  if (values.timezone !== undefined) {
    config = parseConfig({ ...config, log: { ...config.log, timezone: values.timezone } }, '--timezone');
  }
  ignoreBrokenPipe(process.stdout);
  await replayFile(positionals[0]!, { json: values.json, config, out: process.stdout });
  return 0;
}

async function runCheckConfig(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { help: { type: 'boolean', short: 'h', default: false } }, true);
  if (values.help) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new RestoreWatcherError('RW_USAGE', 'check-config takes exactly one FILE');
  return checkConfig(positionals[0]!, (line) => process.stdout.write(`${line}\n`));
}

/** `replay FILE | head` closes the pipe early: that is the reader's choice, not an error. */
function ignoreBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
