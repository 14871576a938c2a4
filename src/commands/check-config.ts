/**
 * `restore-watcher check-config FILE`: validates a config file the way `serve`
 * would read it. Prints `ok`, or every problem, one per line.
 */
import { configProblems, configSchema, readConfigJson } from '../config.js';
import { RestoreWatcherError } from '../errors.js';

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
