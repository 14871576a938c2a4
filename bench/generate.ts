/**
 * Writes a realistic backup-agent production.log, the same bytes for the same
 * shape and seed. Most of it is what a quiet agent logs all day: the Backup
 * Manager's `POST /v1/order` polls (Rack access lines) and INFO chatter (Ruby
 * Logger lines), with a few DEBUG, WARN and status requests. Every
 * `restoreEvery` lines a restore runs: its request, polls and progress messages,
 * then `success` or an ERROR with a backtrace, then one more poll.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { accessLine, loggerLine, loggerTime, rackTime } from '../src/log-lines.js';
import { random } from '../test/helpers/random.js';

export interface LogShape {
  /** Seed of the pseudo-random choices: the same seed gives the same file. */
  seed: number;
  /** Physical lines to write (backtrace lines count). */
  lines: number;
  /** A restore starts at every multiple of this line number, offset by half of it. */
  restoreEvery: number;
  /** Time of the first line, epoch milliseconds (UTC). */
  start: number;
  /** Every this-many-th restore fails with an ERROR and a backtrace; the rest succeed. */
  failEvery: number;
}

/** What the file holds, for checking a replay against it. */
export interface LogStory {
  lines: number;
  bytes: number;
  restores: number;
  succeeded: number;
  failed: number;
}

export const DEFAULT_SHAPE: LogShape = {
  seed: 20181120,
  lines: 1_000_000,
  restoreEvery: 20_000,
  start: Date.UTC(2018, 10, 20, 0, 0, 0),
  failEvery: 4,
};

const MANAGER = '172.28.19.51';
const OPERATOR = '172.28.19.56';
const USER = 'oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT';
const PID = 31554;

const CHATTER = [
  'Started POST "/v1/order" for 172.28.19.51',
  'Completed 200 OK in 3ms',
  'order status requested: no job running',
  'checking disk usage of /var/vcap/store: 41%',
  'heartbeat sent to backup manager',
  'postgresql is accepting connections',
  'cleaning up temporary files in /var/vcap/data/backup-agent/tmp',
];
const DEBUG = ['reading /var/vcap/jobs/backup-agent/config/config.yml', 'connection pool: 1 of 5 in use'];
const WARN = ['backup manager answered slowly (2.1s)', 'retrying heartbeat (attempt 2 of 3)'];
const STEPS = [
  'downloading backup a9s-pg-1542859215559',
  'downloaded part {n} of 12',
  'decrypting backup',
  'stopping postgresql',
  'restoring database with pg_restore',
  'pg_restore: {n}0% done',
  'starting postgresql',
  'waiting for postgresql to accept connections',
];
const BACKTRACE = [
  '/var/vcap/packages/backup-agent/vendor/bundle/ruby/2.4.0/gems/aws-sdk-core-3.21.2/lib/seahorse/client/plugins/raise_response_errors.rb:15:in `call\'',
  '/var/vcap/packages/backup-agent/vendor/bundle/ruby/2.4.0/gems/aws-sdk-s3-1.17.0/lib/aws-sdk-s3/plugins/sse_cpk.rb:22:in `call\'',
  '/var/vcap/packages/backup-agent/vendor/bundle/ruby/2.4.0/gems/aws-sdk-core-3.21.2/lib/aws-sdk-core/plugins/response_target.rb:23:in `call\'',
  '/var/vcap/packages/backup-agent/lib/backup_agent/storage/s3.rb:57:in `download\'',
  '/var/vcap/packages/backup-agent/lib/backup_agent/restore.rb:42:in `download\'',
  '/var/vcap/packages/backup-agent/lib/backup_agent/restore.rb:18:in `run\'',
  '/var/vcap/packages/backup-agent/lib/backup_agent/worker.rb:31:in `block in perform\'',
  '/var/vcap/packages/backup-agent/vendor/bundle/ruby/2.4.0/gems/sinatra-2.0.4/lib/sinatra/base.rb:1635:in `block in compile!\'',
];

/** Yields the log's lines (without newlines) and fills `story` as it goes. */
export function* generateLines(shape: LogShape, story?: LogStory): Generator<string> {
  const rand = random(shape.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  let now = shape.start;
  let second = -1;
  let accessTime = '';
  // Formatting a date is the generator's main cost; the access line's changes once a second.
  const stamp = (): void => {
    const s = Math.floor(now / 1000);
    if (s === second) return;
    second = s;
    accessTime = rackTime(s * 1000);
  };
  const tick = (maxMs: number): void => {
    now += Math.floor(rand() * maxMs);
    stamp();
  };
  const access = (host: string, method: string, target: string, status: number): string => {
    const size = 10 + Math.floor(rand() * 40);
    const durationSeconds = rand() * 0.9 + 0.0005;
    return accessLine({ host, user: USER, stamp: accessTime, method, target, status, size, durationSeconds });
  };
  const logger = (severity: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR', message: string): string =>
    loggerLine({ stamp: loggerTime(now, Math.floor(rand() * 1000)), pid: PID, severity, message });
  const chatter = (): string => {
    const r = rand();
    if (r < 0.55) return access(MANAGER, 'POST', '/v1/order', 200);
    if (r < 0.9) return logger('INFO', pick(CHATTER));
    if (r < 0.95) return logger('DEBUG', pick(DEBUG));
    if (r < 0.99) return access(MANAGER, 'GET', '/v1/status', 200);
    return logger('WARN', pick(WARN));
  };
  const restore = (failing: boolean): string[] => {
    const lines: string[] = [access(OPERATOR, 'POST', '/v1/restore', 200)];
    const steps = 10 + Math.floor(rand() * 30);
    for (let i = 0; i < steps; i++) {
      tick(3000);
      lines.push(
        rand() < 0.6
          ? access(MANAGER, 'POST', '/v1/order', 200)
          : logger('INFO', pick(STEPS).replace('{n}', String(1 + Math.floor(rand() * 9)))),
      );
    }
    tick(3000);
    if (failing) {
      lines.push(logger('ERROR', 'could not download backup: 403 Forbidden (Aws::S3::Errors::Forbidden)'));
      lines.push(...BACKTRACE);
    } else {
      lines.push(logger('INFO', 'success'));
    }
    tick(3000);
    lines.push(access(MANAGER, 'POST', '/v1/order', 200));
    return lines;
  };

  const s: LogStory = story ?? { lines: 0, bytes: 0, restores: 0, succeeded: 0, failed: 0 };
  let nextRestore = Math.floor(shape.restoreEvery / 2);
  stamp();
  while (s.lines < shape.lines) {
    let block: string[];
    if (s.lines >= nextRestore) {
      nextRestore += shape.restoreEvery;
      const failing = (s.restores + 1) % shape.failEvery === 0;
      block = restore(failing);
      // A restore cut by the end of the file is still running: count only finished ones.
      if (s.lines + block.length <= shape.lines) {
        s.restores++;
        if (failing) s.failed++;
        else s.succeeded++;
      }
    } else {
      tick(1000);
      block = [chatter()];
    }
    for (const line of block) {
      if (s.lines >= shape.lines) return;
      s.lines++;
      s.bytes += Buffer.byteLength(line) + 1;
      yield line;
    }
  }
}

/** Writes the log to `path` in large writes and returns what it holds. */
export function writeLog(path: string, shape: LogShape = DEFAULT_SHAPE): LogStory {
  const story: LogStory = { lines: 0, bytes: 0, restores: 0, succeeded: 0, failed: 0 };
  const fd = openSync(path, 'w');
  try {
    let batch: string[] = [];
    let size = 0;
    for (const line of generateLines(shape, story)) {
      batch.push(line);
      size += line.length + 1;
      if (size >= 1 << 20) {
        writeSync(fd, `${batch.join('\n')}\n`);
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) writeSync(fd, `${batch.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
  return story;
}
