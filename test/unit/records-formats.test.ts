import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/model.js';
import { RecordAssembler } from '../../src/parse/records.js';
import { linesOf } from '../helpers/lines.js';
import { recordsOf } from '../helpers/records.js';

// Lines as the real libraries write them (fixtures/corpus has them in whole logs).

const assemble = (texts: string[], timezone = 'auto'): LogRecord[] => recordsOf(texts, timezone);

const iso = (r: LogRecord): string | null => (r.kind === 'unknown' || r.time === null ? null : new Date(r.time).toISOString());

describe('formats seen in the wild', () => {
  it.each([
    ['logger 1.5', 'I, [2018-11-20T12:12:35.000000 #31554]  INFO -- : x', '2018-11-20T12:12:35.000Z'],
    ['logger <= 1.4 with its datetime format', 'I, [2018-11-20T12:12:35.000000#31554]  INFO -- : x', '2018-11-20T12:12:35.000Z'],
    ['a custom datetime_format', 'W, [2018-11-20 12:12:35#31554]  WARN -- : x', '2018-11-20T12:12:35.000Z'],
    ['a custom datetime_format, logger 1.5', 'W, [2018-11-20 12:12:35 #31554]  WARN -- : x', '2018-11-20T12:12:35.000Z'],
    ['a progname', 'I, [2018-11-20T12:12:35.250000 #31554]  INFO -- backup-agent: x', '2018-11-20T12:12:35.250Z'],
  ])('%s', (_, line, time) => {
    const [r] = assemble([line]);
    expect(r!.kind).toBe('logger');
    expect(iso(r!)).toBe(time);
    expect(r!.kind === 'logger' && r!.message).toBe('x');
  });

  it('reads Rack 1.5 access times, which have no zone, in the logger zone', () => {
    const line = '172.28.19.56 - admin [20/Nov/2018 12:12:30] "POST /v1/restore HTTP/1.1" 200 21 0.0023';
    const [utc] = assemble([line]);
    expect(utc).toMatchObject({ kind: 'access', user: 'admin', method: 'POST', path: '/v1/restore' });
    expect(iso(utc!)).toBe('2018-11-20T12:12:30.000Z');
    expect(iso(assemble([line], 'Europe/Berlin')[0]!)).toBe('2018-11-20T11:12:30.000Z');
  });

  it('knows server banners, with the pid and time where they say one', () => {
    const records = assemble([
      'Puma starting in single mode...',
      "* Puma version: 5.6.5 (ruby 3.1.2-p20) (\"Birdie's Version\")",
      '*          PID: 32210',
      '* Listening on http://127.0.0.1:3000',
      'Use Ctrl-C to stop',
      '[2018-11-20 12:13:52] INFO  WEBrick 1.8.1',
      '[2018-11-20 12:13:52] INFO  WEBrick::HTTPServer#start: pid=32210 port=3000',
      '>> Thin web server (v1.7.2 codename Bachmanity)',
    ]);
    expect(records.map((r) => (r.kind === 'banner' ? `${r.server}:${r.pid ?? '-'}:${iso(r) ?? '-'}` : r.kind))).toEqual([
      'puma:-:-',
      'puma:-:-',
      'puma:32210:-',
      'puma:-:-',
      'puma:-:-',
      'webrick:-:2018-11-20T12:13:52.000Z',
      'webrick:32210:2018-11-20T12:13:52.000Z',
      'thin:-:-',
    ]);
  });

  it("joins Sinatra's dump_errors report and its tab-indented trace into one record", () => {
    const records = assemble([
      '2018-11-20 12:12:30 - BackupAgent::RestoreError - backup a9s-pg-1542859215559 is not in the backup store:',
      "\t/var/vcap/packages/backup-agent/lib/backup_agent/backup_agent.rb:99:in `restore'",
      "\t/usr/lib/ruby/vendor_ruby/sinatra/base.rb:1706:in `block in compile!'",
      '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 500 30 0.0100',
    ]);
    expect(records.map((r) => r.kind)).toEqual(['exception', 'access']);
    const e = records[0]!;
    expect(e.kind === 'exception' && e.errorClass).toBe('BackupAgent::RestoreError');
    expect(e.kind === 'exception' && e.message.split('\n')).toEqual([
      'BackupAgent::RestoreError: backup a9s-pg-1542859215559 is not in the backup store',
      "/var/vcap/packages/backup-agent/lib/backup_agent/backup_agent.rb:99:in `restore'",
      "/usr/lib/ruby/vendor_ruby/sinatra/base.rb:1706:in `block in compile!'",
    ]);
  });
});

describe("WEBrick's own request log", () => {
  it('reads its access and referer lines as echoes of a request, never as requests', () => {
    const records = assemble([
      '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023',
      '127.0.0.1 - - [20/Nov/2018:12:12:30 UTC] "POST /v1/restore HTTP/1.1" 200 21',
      '- -> /v1/restore',
    ]);
    expect(records.map((r) => (r.kind === 'echo' ? `echo ${r.path}` : r.kind))).toEqual(['access', 'echo /v1/restore', 'echo /v1/restore']);
  });
});

describe('timezone auto', () => {
  const access = (stamp: string): string => `172.28.19.51 - admin [${stamp}] "POST /v1/order HTTP/1.1" 200 13 0.7541`;
  const logger = (stamp: string): string => `I, [${stamp}.000000 #1]  INFO -- : x`;

  it('reads logger times at the offset of the access lines, UTC before the first', () => {
    const records = assemble([
      logger('2018-11-20T13:00:00'),
      access('20/Nov/2018:13:00:01 +0100'),
      logger('2018-11-20T13:00:02'),
      access('27/Oct/2018:12:00:00 +0200'),
      logger('2018-10-27T12:00:01'),
    ]);
    expect(records.map(iso)).toEqual([
      '2018-11-20T12:00:00.000Z', // completed by a +0100 access line: read at +0100
      '2018-11-20T12:00:01.000Z',
      '2018-11-20T12:00:02.000Z',
      '2018-10-27T10:00:00.000Z',
      '2018-10-27T10:00:01.000Z',
    ]);
  });

  it('tells the repeated hour at fall-back apart by the access lines around a record', () => {
    // Berlin, 28 October 2018: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    const records = assemble([
      access('28/Oct/2018:02:55:00 +0200'),
      logger('2018-10-28T02:57:30'), // before the change: 00:57:30Z
      access('28/Oct/2018:02:00:00 +0100'),
      logger('2018-10-28T02:09:10'), // after it: 01:09:10Z
      access('28/Oct/2018:02:10:00 +0100'),
    ]);
    expect(records.map(iso)).toEqual([
      '2018-10-28T00:55:00.000Z',
      '2018-10-28T00:57:30.000Z',
      '2018-10-28T01:00:00.000Z',
      '2018-10-28T01:09:10.000Z',
      '2018-10-28T01:10:00.000Z',
    ]);
  });

  it("takes a Rails Started line's own offset", () => {
    const [r] = assemble(['I, [2018-11-20T13:12:30.000000 #1]  INFO -- : [r1] Started POST "/v1/restore" for 10.0.0.1 at 2018-11-20 13:12:30 +0100']);
    expect(iso(r!)).toBe('2018-11-20T12:12:30.000Z');
  });

  it('keeps each assembler to itself: two inputs in different zones, line by line in turn', () => {
    const berlin = new RecordAssembler({ timezone: 'auto' });
    const utc = new RecordAssembler({ timezone: 'auto' });
    const [b, u] = [linesOf([access('20/Nov/2018:13:00:01 +0100'), logger('2018-11-20T13:00:02')]), linesOf([access('20/Nov/2018:13:00:01 +0000'), logger('2018-11-20T13:00:02')])];
    const out: string[] = [];
    for (let i = 0; i < 2; i++) {
      for (const r of berlin.push(b[i]!)) out.push(`b ${iso(r)}`);
      for (const r of utc.push(u[i]!)) out.push(`u ${iso(r)}`);
    }
    for (const r of berlin.flush()) out.push(`b ${iso(r)}`);
    for (const r of utc.flush()) out.push(`u ${iso(r)}`);
    expect(out).toEqual(['b 2018-11-20T12:00:01.000Z', 'u 2018-11-20T13:00:01.000Z', 'b 2018-11-20T12:00:02.000Z', 'u 2018-11-20T13:00:02.000Z']);
  });
});
