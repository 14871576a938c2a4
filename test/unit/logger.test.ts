import { describe, expect, it } from 'vitest';
import { parseLoggerLine } from '../../src/parse/logger.js';
import { localTimeConverter } from '../../src/parse/timezone.js';

const utc = localTimeConverter('UTC');

describe('parseLoggerLine', () => {
  const ok: Array<[string, string, Record<string, unknown>]> = [
    [
      'the seed line',
      'I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : success',
      {
        time: Date.UTC(2018, 10, 20, 12, 13, 0, 939),
        pid: 31554,
        severity: 'INFO',
        progname: '',
        message: 'success',
        tags: [],
      },
    ],
    ['ERROR is not padded', 'E, [2018-11-20T13:00:20.300000 #1] ERROR -- : boom', { severity: 'ERROR', message: 'boom' }],
    ['FATAL', 'F, [2018-11-20T13:00:20.300000 #1] FATAL -- : dead', { severity: 'FATAL' }],
    ['WARN padded', 'W, [2018-11-20T13:00:20.300000 #1]  WARN -- : careful', { severity: 'WARN' }],
    ['DEBUG', 'D, [2018-11-20T13:00:20.300000 #1] DEBUG -- : detail', { severity: 'DEBUG' }],
    ['ANY', 'A, [2018-11-20T13:00:20.300000 #1]   ANY -- : whatever', { severity: 'ANY' }],
    ['progname', 'I, [2018-11-20T13:00:20.300000 #1]  INFO -- backup-agent: started', { progname: 'backup-agent', message: 'started' }],
    ['message with colons', 'I, [2018-11-20T13:00:20.300000 #1]  INFO -- : a: b: c', { progname: '', message: 'a: b: c' }],
    ['empty message', 'I, [2018-11-20T13:00:20.300000 #1]  INFO -- : ', { message: '' }],
    [
      'Rails request line with tags',
      'I, [2018-11-20T13:00:20.300000 #1]  INFO -- : [req-42] [a9s] Started POST "/v1/restore" for 172.28.19.56 at 2018-11-20 13:00:20 +0000',
      { tags: ['req-42', 'a9s'], message: 'Started POST "/v1/restore" for 172.28.19.56 at 2018-11-20 13:00:20 +0000' },
    ],
    ['Rails completed line', 'I, [2018-11-20T13:00:20.300000 #1]  INFO -- : Completed 200 OK in 5ms', { message: 'Completed 200 OK in 5ms' }],
    ['no fraction', 'I, [2018-11-20T13:00:20 #1]  INFO -- : x', { time: Date.UTC(2018, 10, 20, 13, 0, 20) }],
  ];
  it.each(ok)('%s', (_name, line, expected) => {
    const r = parseLoggerLine(line, utc);
    if (!r.ok) throw new Error(r.reason);
    expect(r.value).toMatchObject(expected);
  });

  const bad: Array<[string, string]> = [
    ['access line', '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023'],
    ['letter does not match severity', 'I, [2018-11-20T13:00:20.300000 #1] ERROR -- : x'],
    ['unknown severity', 'X, [2018-11-20T13:00:20.300000 #1]  XXXX -- : x'],
    ['backtrace line', "/var/vcap/packages/backup-agent/lib/restore.rb:42:in `download'"],
    ['cut prefix', 'I, [2018-11-20T13:00'],
  ];
  it.each(bad)('rejects %s', (_name, line) => {
    expect(parseLoggerLine(line, utc).ok).toBe(false);
  });

  it('reads timestamps in the configured zone', () => {
    const berlin = localTimeConverter('Europe/Berlin');
    const winter = parseLoggerLine('I, [2018-11-20T13:13:00.000000 #1]  INFO -- : x', berlin);
    const summer = parseLoggerLine('I, [2018-07-20T14:13:00.000000 #1]  INFO -- : x', berlin);
    expect(winter.ok && winter.value.time).toBe(Date.UTC(2018, 10, 20, 12, 13, 0));
    expect(summer.ok && summer.value.time).toBe(Date.UTC(2018, 6, 20, 12, 13, 0));
  });

  it('reads the same timestamp in each zone asked for, one line after the other', () => {
    const berlin = localTimeConverter('Europe/Berlin');
    const line = 'I, [2018-11-20T13:13:00.250000 #1]  INFO -- : x';
    const times = [utc, berlin, utc, berlin].map((zone) => {
      const r = parseLoggerLine(line, zone);
      return r.ok ? r.value.time : null;
    });
    const inUtc = Date.UTC(2018, 10, 20, 13, 13, 0, 250);
    expect(times).toEqual([inUtc, inUtc - 3_600_000, inUtc, inUtc - 3_600_000]);
  });
});
