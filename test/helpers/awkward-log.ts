/**
 * Owns the seeded generator of awkward production.logs for differential tests:
 * long idle stretches (polls, status checks, chatter, pid changes) around
 * restores and backups with every outcome, written with the formats' own writers
 * (src/log-lines.ts) and then made awkward: CRLF endings, invalid UTF-8, 70 KB
 * lines, request text inside logger messages, query strings, IPv6 and
 * forwarded-for hosts, Rails request lines, banners, zone changes, and sometimes
 * no final newline.
 */
import { accessLine, loggerLine, loggerTime, rackTime } from '../../src/log-lines.js';
import { random } from './random.js';

export interface AwkwardShape {
  seed: number;
  /** About this many lines. */
  lines: number;
}

const USER = 'oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT';
const HOSTS = ['172.28.19.51', '2001:db8::51', '10.0.0.1, 172.28.19.51', '::1'];

/** The log's bytes. */
export function awkwardLog(shape: AwkwardShape): Buffer {
  const rand = random(shape.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const chance = (p: number): boolean => rand() < p;
  let now = Date.UTC(2018, 10, 20, 12, 0, 0);
  let zone = 0;
  let pid = 31554;
  const parts: Buffer[] = [];
  let lines = 0;
  const put = (text: string | Buffer): void => {
    const body = typeof text === 'string' ? Buffer.from(text) : text;
    parts.push(body, Buffer.from(chance(0.05) ? '\r\n' : '\n'));
    lines++;
  };
  const tick = (maxMs: number): void => {
    now += Math.floor(rand() * maxMs);
  };
  const access = (method: string, target: string, status: number, host = pick(HOSTS)): string =>
    accessLine({
      host,
      user: chance(0.5) ? USER : null,
      stamp: rackTime(now, zone),
      method,
      target,
      status,
      size: chance(0.1) ? null : 20,
      durationSeconds: rand() * 2,
    });
  const logger = (severity: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL', message: string, tag?: string): string =>
    loggerLine({ stamp: loggerTime(now + zone * 60_000, Math.floor(rand() * 1000)), pid, severity, message: tag ? `[${tag}] ${message}` : message });
  const poll = (status = 200): string => access('POST', chance(0.1) ? '/v1/order?job=1' : '/v1/order', status);
  const idle = (): void => {
    tick(chance(0.05) ? 30_000 : 2_000);
    const r = rand();
    if (r < 0.4) put(poll(chance(0.03) ? pick([404, 500, 503]) : 200));
    else if (r < 0.5) put(access('GET', pick(['/v1/status', '/favicon.ico', '/v1/restore/status']), pick([200, 404, 500])));
    else if (r < 0.7) put(logger(pick(['INFO', 'DEBUG']), pick(['heartbeat sent', 'Started POST "/v1/order" for 172.28.19.51', 'Completed 200 OK in 3ms', 'checking disk'])));
    else if (r < 0.75) put(logger(pick(['WARN', 'ERROR']), pick(['backup manager answered slowly', 'connection refused'])));
    else if (r < 0.78) put(logger('INFO', `proxy saw "POST /v1/restore HTTP/1.1" from ${pick(HOSTS)}`));
    else if (r < 0.8) put(`${logger('ERROR', 'boom (RuntimeError)')}\n/var/vcap/packages/backup-agent/lib/a.rb:1:in \`x'`);
    else if (r < 0.82) put(Buffer.concat([Buffer.from(logger('INFO', 'bytes ')), Buffer.from([0xff, 0xfe, 0xc3])]));
    else if (r < 0.84) put(`garbage "POST /v1/order HTTP/1.1"`);
    else if (r < 0.85) put('');
    else if (r < 0.86) pid = chance(0.5) ? pid + 1 : 31554;
    else if (r < 0.87) zone = pick([0, 60, -300]);
    else if (r < 0.875) put(`${new Date(now).toISOString().slice(0, 19).replace('T', ' ')} - RuntimeError - boom:`);
    else if (r < 0.88) put('\tfrom /var/vcap/packages/backup-agent/lib/a.rb:1');
    else put(poll());
  };
  const railsStarted = (method: string, path: string, tag: string): string =>
    logger('INFO', `Started ${method} "${path}" for ${pick(HOSTS)} at ${new Date(now).toISOString().slice(0, 19).replace('T', ' ')} +0000`, tag);
  const operation = (): void => {
    const kind = chance(0.7) ? 'restore' : 'backup';
    const path = `/v1/${kind}${chance(0.2) ? '?instance=1' : ''}`;
    if (chance(0.3)) put(logger('INFO', `${kind === 'restore' ? 'Restoring' : 'Creating'} backup a9s-pg-1542859215559`));
    if (chance(0.2)) put(logger('ERROR', 'handler failed before the access line'));
    // A busy second: many lines between the handler's first line and its request's access line.
    if (chance(0.3)) {
      put(logger('INFO', 'Restoring backup a9s-pg-1542859215559'));
      const busy = Math.floor(rand() * 80);
      for (let i = 0; i < busy; i++) put(chance(0.5) ? poll() : logger('DEBUG', 'connection pool: 1 of 5 in use'));
    }
    // Another request's access line between the handler's lines and its own.
    if (chance(0.3)) put(access('GET', pick(['/v1/status', '/favicon.ico']), pick([200, 404])));
    if (chance(0.1)) {
      const tag = `t${Math.floor(rand() * 1e6)}`;
      put(railsStarted('POST', `/v1/${kind}`, tag));
      put(logger('INFO', `Completed ${pick([200, 200, 500])} OK in 5ms`, tag));
    }
    put(access('POST', path, chance(0.85) ? 200 : pick([401, 409, 500])));
    const steps = Math.floor(rand() * 20);
    for (let i = 0; i < steps; i++) {
      tick(3_000);
      if (chance(0.5)) put(poll(chance(0.1) ? pick([404, 500]) : 200));
      else if (chance(0.7)) put(logger('INFO', pick(['downloading backup a9s-pg-1542859215559', 'stopping postgresql', 'pg_restore: 10% done'])));
      else idle();
    }
    tick(3_000);
    const outcome = rand();
    if (outcome < 0.4) put(logger('INFO', 'success'));
    else if (outcome < 0.6) put(`${logger('ERROR', 'could not download backup: 403 Forbidden (Aws::S3::Errors::Forbidden)')}\n/var/vcap/a.rb:1:in \`x'`);
    else if (outcome < 0.7) tick(20 * 60_000);
    else if (outcome < 0.75) put(['Puma starting in single mode...', '* Puma version: 5.6.5', `*          PID: ${++pid}`, 'Use Ctrl-C to stop'].join('\n'));
    else if (outcome < 0.8) {
      put(`[${new Date(now).toISOString().slice(0, 19).replace('T', ' ')}] INFO  WEBrick::HTTPServer#start: pid=${++pid} port=3000`);
    } else if (outcome < 0.85) pid++;
    else if (outcome < 0.9) for (let i = 0; i < 4; i++) put(poll(500));
    // else: left running, superseded by the next one or still running at the end.
  };
  while (lines < shape.lines) {
    // Two 70 KB lines in every log: a logger entry, and a line with a start request's bytes past the cut.
    if (lines === 600) put(logger('INFO', `long ${'x'.repeat(70_000)}`));
    else if (lines === 1200) put(`garbage ${'y'.repeat(70_000)} "POST /v1/restore HTTP/1.1"`);
    else if (chance(0.02)) operation();
    else idle();
  }
  const bytes = Buffer.concat(parts);
  // Sometimes no final newline.
  return chance(0.3) ? bytes.subarray(0, bytes.length - 1) : bytes;
}
