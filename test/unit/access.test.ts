import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAccessLine } from '../../src/parse/access.js';
import { decimal } from '../../src/parse/digits.js';
import { random } from '../helpers/random.js';

const seedLines = readFileSync(new URL('../../fixtures/seed-sample.log', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('172.'));

describe('parseAccessLine', () => {
  it.each(seedLines)('parses the seed line %s', (line) => {
    const r = parseAccessLine(line);
    expect(r.ok).toBe(true);
  });

  const ok: Array<[string, string, Record<string, unknown>]> = [
    [
      'seed restore request',
      '172.28.19.56 - oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023',
      {
        time: Date.UTC(2018, 10, 20, 12, 12, 30),
        host: '172.28.19.56',
        user: 'oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT',
        method: 'POST',
        path: '/v1/restore',
        query: null,
        version: 'HTTP/1.1',
        status: 200,
        size: 21,
        durationSeconds: 0.0023,
      },
    ],
    [
      'IPv6 host',
      '2001:db8::1 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/order HTTP/1.1" 200 13 0.7541',
      { host: '2001:db8::1', path: '/v1/order' },
    ],
    [
      'X-Forwarded-For list',
      '10.0.0.1, 10.0.0.2 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/order HTTP/1.1" 200 13 0.7541',
      { host: '10.0.0.1, 10.0.0.2' },
    ],
    [
      'user and size "-"',
      '172.28.19.56 - - [20/Nov/2018:12:12:30 +0000] "GET /v1/status HTTP/1.1" 204 - 0.0001',
      { user: null, size: null, status: 204 },
    ],
    [
      'empty version',
      '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore " 200 21 0.0023',
      { path: '/v1/restore', version: '' },
    ],
    [
      'query string',
      '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "GET /v1/order?id=5&x=1 HTTP/1.0" 200 21 0.0023',
      { path: '/v1/order', query: 'id=5&x=1', version: 'HTTP/1.0' },
    ],
    [
      'older Rack: trailing space',
      '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023 ',
      { status: 200, durationSeconds: 0.0023 },
    ],
    [
      'zone offset applied',
      '172.28.19.56 - admin [20/Nov/2018:13:12:30 +0100] "POST /v1/restore HTTP/1.1" 200 21 0.0023',
      { time: Date.UTC(2018, 10, 20, 12, 12, 30) },
    ],
    [
      'negative zone offset',
      '172.28.19.56 - admin [20/Nov/2018:07:42:30 -0430] "POST /v1/restore HTTP/1.1" 200 21 0.0023',
      { time: Date.UTC(2018, 10, 20, 12, 12, 30) },
    ],
  ];
  it.each(ok)('%s', (_name, line, expected) => {
    const r = parseAccessLine(line);
    if (!r.ok) throw new Error(r.reason);
    expect(r.value).toMatchObject(expected);
  });

  const bad: Array<[string, string]> = [
    ['logger line', 'I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : success'],
    ['blank', ''],
    ['cut in the middle', '172.28.19.51 - admin [20/Nov/2018:12:12:3'],
    ['no status', '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1"'],
    ['bad month', '172.28.19.56 - admin [20/Foo/2018:12:12:30 +0000] "POST /v1/restore HTTP/1.1" 200 21 0.0023'],
    ['boot banner', '==== backup-agent 1.4.2 booting - pid 31554 "x" ===='],
  ];
  it.each(bad)('rejects %s as a value, not an exception', (_name, line) => {
    const r = parseAccessLine(line);
    expect(r.ok).toBe(false);
  });

  it('reads each line\'s own time when consecutive lines share a minute, a second or neither', () => {
    const at = (stamp: string): number | null => {
      const r = parseAccessLine(`10.0.0.1 - admin [${stamp}] "POST /v1/order HTTP/1.1" 200 13 0.7541`);
      return r.ok ? r.value.time : null;
    };
    const sequence: Array<[string, number | null]> = [
      ['20/Nov/2018:12:12:30 +0000', Date.UTC(2018, 10, 20, 12, 12, 30)],
      ['20/Nov/2018:12:12:30 +0000', Date.UTC(2018, 10, 20, 12, 12, 30)],
      ['20/Nov/2018:12:12:59 +0000', Date.UTC(2018, 10, 20, 12, 12, 59)],
      ['20/Nov/2018:12:12:59 +0100', Date.UTC(2018, 10, 20, 11, 12, 59)],
      ['20/Nov/2018:12:13:00 +0100', Date.UTC(2018, 10, 20, 11, 13, 0)],
      ['20/Nov/2018:12:13:00 -0100', Date.UTC(2018, 10, 20, 13, 13, 0)],
      ['21/Nov/2018:12:13:00 -0100', Date.UTC(2018, 10, 21, 13, 13, 0)],
      ['21/Foo/2018:12:13:00 -0100', null],
      ['21/Nov/2018:12:13:01 -0100', Date.UTC(2018, 10, 21, 13, 13, 1)],
    ];
    expect(sequence.map(([stamp]) => at(stamp))).toEqual(sequence.map(([, time]) => time));
  });

  it('reads sizes and durations as Number() reads them, however many digits', () => {
    const rand = random(13);
    const written: string[] = ['0', '7', '0.7541', '0.0023', '1.5', '9007199254740993', '0.1', '123456789012345', '1234567890123456', '0.30000000000000004'];
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + Math.floor(rand() * 20);
      let s = '';
      for (let k = 0; k < length; k++) s += String(Math.floor(rand() * 10));
      const dot = Math.floor(rand() * (length + 1));
      written.push(dot > 0 && dot < length && rand() < 0.8 ? `${s.slice(0, dot)}.${s.slice(dot)}` : s);
    }
    for (const s of written) {
      // Inside a line, as the parser meets them.
      const line = `x ${s} y`;
      expect(Object.is(decimal(line, 2, 2 + s.length), Number(s)), s).toBe(true);
    }
  });
});
