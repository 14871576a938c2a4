/**
 * `restore-watcher check-config FILE`: validates a config file the way `serve`
 * would read it. Prints `ok`, or every problem, one per line.
 */
import { configProblems, configSchema, readConfigJson } from '../config.js';
import { RestoreWatcherError } from '../errors.js';
import { HELP_FLAG, helpShown, parseFlags, type Command } from './flags.js';

const CHECK_HELP = `Usage: restore-watcher check-config FILE

Validates a JSON config file the way serve reads it: prints "ok" and exits 0, or
prints every problem (the key and what was expected) and exits 1.

Example:
  restore-watcher check-config /var/vcap/jobs/restore-watcher/config/config.json
`;

export const checkConfigCommand: Command = {
  synopsis: 'restore-watcher check-config FILE',
  summary: 'Validate a config file: prints "ok" and exits 0, or lists every problem and exits 1.',
  help: CHECK_HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, HELP_FLAG, true);
    const shown = helpShown(values, CHECK_HELP);
    if (shown !== null) return shown;
    if (positionals.length !== 1) throw new RestoreWatcherError('RW_USAGE', 'check-config takes exactly one FILE');
    return checkConfig(positionals[0]!, (line) => process.stdout.write(`${line}\n`));
  },
};

export async function checkConfig(path: string, out: (line: string) => void): Promise<number> {
  let input: unknown;
  try {
    input = await readConfigJson(path);
  } catch (err) {
    if (err instanceof RestoreWatcherError) {
      out(err.message);
      return 1;
    }
    throw err;
  }
  const result = configSchema.safeParse(input);
  if (result.success) {
    out('ok');
    return 0;
  }
  out(`${path} is invalid:`);
  for (const problem of configProblems(result.error)) for (const line of problem.split('\n')) out(`  ${line}`);
  return 1;
}
