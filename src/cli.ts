/**
 * The command line's entry: picks the subcommand, loads its module (only that
 * one, so `replay` never loads the HTTP server), runs it, and turns the
 * catalogue's errors into one line on stderr and an exit status. Anything else
 * that escapes is a bug and is shown as one. Nothing imports this module.
 */
import type { Command } from './commands/flags.js';
import { RestoreWatcherError } from './errors.js';

/** The subcommands, in the order `--help` lists them; each module is loaded when asked for. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  replay: async () => (await import('./commands/replay.js')).replayCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  watch: async () => (await import('./commands/watch.js')).watchCommand,
  'check-config': async () => (await import('./commands/check-config.js')).checkConfigCommand,
};

async function usage(): Promise<string> {
  const { VERSION } = await import('./version.js');
  const lines = [`restore-watcher ${VERSION}: follow a9s-pg restores and backups from the backup-agent's log`, '', 'Usage:'];
  for (const load of Object.values(COMMANDS)) {
    const command = await load();
    lines.push(`  ${command.synopsis}`, `      ${command.summary}`);
  }
  lines.push('', 'Run "restore-watcher COMMAND --help" for a command\'s flags and examples.', '');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(await usage());
      return name === undefined ? 64 : 0;
    }
    if (name === '--version' || name === '-v') {
      // Read only when asked for: the other commands need no package.json at start-up.
      const { VERSION } = await import('./version.js');
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (load === undefined) throw new RestoreWatcherError('RW_USAGE', `unknown command "${name}" (see --help)`);
    return await (await load()).run(rest);
  } catch (err) {
    if (err instanceof RestoreWatcherError) {
      process.stderr.write(`restore-watcher: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
