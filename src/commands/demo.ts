/**
 * `restore-watcher demo`: a restore that can be watched without a VM. Writes a
 * simulated backup-agent log (a restore request, order polls, progress messages,
 * success; then a restore that fails with a backtrace) into a temporary directory
 * at a human pace, serves it on loopback, and prints the commands to try.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { parseConfig, type Config } from '../config.js';
import { DEFAULT_PORT } from '../defaults.js';
import { RestoreWatcherError } from '../errors.js';
import { accessLine, loggerLine, loggerTime, rackTime } from '../log-lines.js';
import { TimelinePrinter } from '../report/timeline.js';
import { startService, type RunningService } from '../service.js';
import { HELP_FLAG, helpShown, parseFlags, parsePort, type Command } from './flags.js';

const DEMO_HELP = `Usage: restore-watcher demo [--port N] [--pace FACTOR]

Writes a simulated a9s-pg restore into a temporary production.log at a human pace
(about a minute), follows and serves it on 127.0.0.1, and prints curl commands to
try. A second restore then fails with a backtrace. Ctrl-C stops it and removes the
temporary files.

  --port N        Port to serve on (default ${DEFAULT_PORT}; 0 picks a free one).
  --pace FACTOR   Multiply every pause by FACTOR (default 1; 0 writes everything at once).
`;

interface Step {
  /** Seconds to wait before writing. */
  wait: number;
  line: (now: Date) => string;
}

const AGENT = '172.28.19.56';
const MANAGER = '172.28.19.51';
const USER = 'demo-backup-manager';
const PID = 31554;

function access(host: string, path: string, status: number, size: number): (now: Date) => string {
  return (now) =>
    accessLine({
      host,
      user: USER,
      stamp: rackTime(now.getTime()),
      method: 'POST',
      target: path,
      status,
      size,
      durationSeconds: ((now.getTime() % 9000) + 1000) / 10_000,
    });
}

function logger(severity: 'INFO' | 'WARN' | 'ERROR', message: string): (now: Date) => string {
  return (now) => loggerLine({ stamp: loggerTime(now.getTime()), pid: PID, severity, message });
}

const poll = (wait: number): Step => ({ wait, line: access(MANAGER, '/v1/order', 200, 13) });

/** The story the demo tells: a restore that works, then one that fails. */
export const DEMO_SCRIPT: readonly Step[] = [
  { wait: 0, line: logger('INFO', 'backup-agent started, listening on 0.0.0.0:3000') },
  { wait: 3, line: access(AGENT, '/v1/restore', 200, 21) },
  poll(1),
  { wait: 2, line: logger('INFO', 'downloading backup a9s-pg-1542859215559 (44985152 bytes)') },
  poll(4),
  { wait: 4, line: logger('INFO', 'stopping postgresql on the a9s-pg cluster') },
  poll(3),
  { wait: 4, line: logger('INFO', 'restoring base backup into /var/vcap/store/postgresql') },
  poll(4),
  poll(5),
  { wait: 3, line: logger('INFO', 'replaying WAL up to the backup end position') },
  poll(5),
  { wait: 3, line: logger('INFO', 'starting postgresql') },
  poll(3),
  { wait: 2, line: logger('INFO', 'success') },
  poll(1),
  { wait: 15, line: access(AGENT, '/v1/restore', 200, 21) },
  poll(1),
  { wait: 3, line: logger('INFO', 'downloading backup a9s-pg-1542862815000') },
  { wait: 4, line: logger('WARN', 'retrying download (attempt 2 of 3)') },
  {
    wait: 4,
    line: (now) =>
      [
        logger('ERROR', 'could not download backup: 403 Forbidden (Aws::S3::Errors::Forbidden)')(now),
        "/var/vcap/packages/backup-agent/lib/backup_agent/storage.rb:88:in `fetch'",
        "/var/vcap/packages/backup-agent/lib/backup_agent/restore.rb:42:in `download'",
        "/var/vcap/packages/backup-agent/lib/backup_agent/restore.rb:17:in `run'",
      ].join('\n'),
  },
  poll(1),
];


export const demoCommand: Command = {
  synopsis: 'restore-watcher demo [--port N] [--pace FACTOR]',
  summary: 'Write a simulated restore into a temporary log, serve it, and print curl commands to try.',
  help: DEMO_HELP,
  run: demo,
};

/**
 * Starts the demo's service on the configured port. When that is the default and
 * it is taken (an agent already runs here?), any free port will do for a demo, and
 * `say` tells the user, whose curl commands would otherwise reach the other one.
 */
export async function startDemoService(
  config: Config,
  o: { logger: Logger; portChosen: boolean; say: (text: string) => void },
): Promise<RunningService> {
  try {
    return await startService(config, { logger: o.logger });
  } catch (err) {
    if (!(err instanceof RestoreWatcherError) || err.code !== 'RW_LISTEN_FAILED' || o.portChosen) throw err;
    const service = await startService({ ...config, http: { ...config.http, port: 0 } }, { logger: o.logger });
    o.say(`port ${config.http.port} is taken (another restore-watcher?); serving on ${service.port} instead`);
    return service;
  }
}

async function demo(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      port: { type: 'string' },
      pace: { type: 'string', default: '1' },
      ...HELP_FLAG,
    },
    false,
  );
  const shown = helpShown(values, DEMO_HELP);
  if (shown !== null) return shown;
  const pace = Number(values.pace);
  if (!Number.isFinite(pace) || pace < 0) throw new RestoreWatcherError('RW_USAGE', `--pace: expected a number ≥ 0, got "${values.pace}"`);
  const port = values.port === undefined ? DEFAULT_PORT : parsePort('--port', values.port);

  const dir = await mkdtemp(join(tmpdir(), 'restore-watcher-demo-'));
  const logPath = join(dir, 'production.log');
  await appendFile(logPath, '');
  const config = parseConfig({
    log: { path: logPath, pollIntervalMs: 100 },
    http: { host: '127.0.0.1', port },
    stateDir: join(dir, 'state'),
    // The demo's agent knows its failing restore's message for a failure, so it fails as it is logged
    // rather than after the grace an ERROR alone waits for a success.
    track: { rules: { failureMessages: ['^could not download backup'] } },
  });
  const logger = pino({ level: 'warn' });
  const service = await startDemoService(config, {
    logger,
    portChosen: values.port !== undefined,
    say: (text) => process.stderr.write(`restore-watcher demo: ${text}\n`),
  });
  const url = service.url;
  process.stdout.write(`restore-watcher demo: a simulated a9s-pg restore is being written to
  ${logPath}
and served on ${url}. Try, in another terminal:

  curl -N ${url}/events/stream          # the restore live, as Server-Sent Events
  curl ${url}/status                    # where it stands, as JSON
  curl ${url}/restores                  # every restore seen
  curl ${url}/                          # one screen for humans
  npx restore-watcher watch --url ${url} --until-done

Ctrl-C stops the demo. What the agent sees:
`);
  const timeline = new TimelinePrinter();
  service.agent.journal.subscribe((events) => {
    for (const e of events) process.stdout.write(timeline.event(e));
  });

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Lines are stamped on the script's own clock, so that the gaps the story has (the
    // agent started three seconds before the restore was asked for) are in the log at
    // any pace. Faster than real time, the clock starts early enough that no line is
    // stamped after the moment it is written.
    const scripted = DEMO_SCRIPT.reduce((sum, step) => sum + step.wait, 0);
    let stamp = Date.now() - Math.max(0, 1 - pace) * scripted * 1000;
    for (const step of DEMO_SCRIPT) {
      if (step.wait * pace > 0) await sleep(step.wait * pace * 1000, undefined, { signal: stop.signal });
      stamp += step.wait * 1000;
      await appendFile(logPath, `${step.line(new Date(stamp))}\n`);
    }
    process.stdout.write('restore-watcher demo: the story is told; still serving until Ctrl-C.\n');
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write('restore-watcher demo: stopped.\n');
  return 0;
}
