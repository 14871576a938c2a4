import { describe, expect, it } from 'vitest';
import { accessLine, loggerLine, loggerTime, rackTime } from '../../src/log-lines.js';
import { parseAccessLine } from '../../src/parse/access.js';
import { parseLoggerLine } from '../../src/parse/logger.js';
import { localTimeConverter } from '../../src/parse/timezone.js';

describe('the line writers', () => {
  it('write the seed sample’s lines byte for byte', () => {
    const restore = Date.UTC(2018, 10, 20, 12, 12, 30);
    expect(
      accessLine({
        host: '172.28.19.56',
        user: 'oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT',
        stamp: rackTime(restore),
        method: 'POST',
        target: '/v1/restore',
        status: 200,
        size: 21,
        durationSeconds: 0.0023,
      }),
    ).toBe('172.28.19.56 - oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023');
    const success = Date.UTC(2018, 10, 20, 12, 13, 0, 939);
    expect(loggerLine({ stamp: loggerTime(success, 338), pid: 31554, severity: 'INFO', message: 'success' })).toBe(
      'I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : success',
    );
  });

  it('write a zone other than UTC as CommonLogger does', () => {
    expect(rackTime(Date.UTC(2018, 9, 28, 0, 30, 0), 120)).toBe('28/Oct/2018:02:30:00 +0200');
    expect(rackTime(Date.UTC(2018, 10, 20, 3, 0, 0), -330)).toBe('19/Nov/2018:21:30:00 -0530');
  });

  it('are read back by the parsers as what they wrote', () => {
    const time = Date.UTC(2019, 0, 2, 3, 4, 5);
    const a = parseAccessLine(
      accessLine({ host: '10.0.0.1', user: null, stamp: rackTime(time, 60), method: 'GET', target: '/v1/x?y=1', status: 404, size: null, durationSeconds: 1.5 }),
    );
    expect(a).toMatchObject({ ok: true, value: { time, host: '10.0.0.1', user: null, method: 'GET', path: '/v1/x', query: 'y=1', status: 404, size: null, durationSeconds: 1.5 } });
    const l = parseLoggerLine(
      loggerLine({ stamp: loggerTime(time + 250), pid: 7, severity: 'ERROR', progname: 'agent', message: 'boom' }),
      localTimeConverter('UTC'),
    );
    expect(l).toMatchObject({ ok: true, value: { time: time + 250, pid: 7, severity: 'ERROR', progname: 'agent', message: 'boom' } });
  });
});
