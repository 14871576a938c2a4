/**
 * The agent as the BOSH job runs it: the job's node flags (bpm.yml.erb renders exactly
 * these, test/bosh/templates.test.ts checks it) and bpm's 1,024 open files.
 */
export const JOB_NODE_FLAGS: readonly string[] = ['--max-old-space-size=384', '--max-semi-space-size=2'];
export const JOB_OPEN_FILES = 1024;

/**
 * Arguments for `execa('sh', …)` that run `bin args…` so; `wrapper` goes before node
 * (e.g. `setpriv … ` to run it as another user).
 */
export function asDeployed(bin: string, args: readonly string[], wrapper = ''): string[] {
  return ['-c', `ulimit -n ${JOB_OPEN_FILES} && exec ${wrapper}"$0" ${JOB_NODE_FLAGS.join(' ')} "$@"`, process.execPath, bin, ...args];
}
