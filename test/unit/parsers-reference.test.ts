import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHAPE, generateLines } from '../../bench/generate.js';
import { random } from '../helpers/random.js';
import { AccessParser, parseAccessLine } from '../../src/parse/access.js';
import { parseLoggerLine } from '../../src/parse/logger.js';
import { localTimeConverter } from '../../src/parse/timezone.js';
import { referenceParseAccessLine, referenceParseLoggerLine } from '../helpers/reference-parsers.js';
import { linesOf } from '../helpers/lines.js';

// Characters that matter to the grammars, and some that only look like they might.
const ALPHABET = [' ', '-', '"', '[', ']', '/', ':', '.', '?', '+', '#', ',', '0', '7', 'a', 'Z', 'I', 'E', '\t', '\r', '\u00a0', '\u2028', 'é'];

/** Real lines, then each of them bent in a few places: the parsers must agree on all of them. */
function corpus(): string[] {
  const fixtures = new URL('../../fixtures/', import.meta.url);
  const lines = readdirSync(fixtures)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(new URL(f, fixtures), 'utf8').split(/\r?\n/));
  lines.push(...generateLines({ ...DEFAULT_SHAPE, lines: 5000 }));
  lines.push(
    '10.0.0.1 - a - b - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/order HTTP/1.1" 200 13 0.7541',
    '10.0.0.1 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/order" 200 13 0.7541',
    '10.0.0.1 - admin [20/Nov/2018:12:12:30 +0000] "POST /a"b HTTP/1.1" 200 13 0.7541',
    '10.0.0.1 - admin [20/Nov/2018:12:12:30 +0000] "POST /a HTTP/1.1"" 200 13 0.7541',
    '10.0.0.1 - admin [20/Nov/2018:12:12:30 +0000] "POST  HTTP/1.1" 200 13 0.7541',
    '10.0.0.1 - admin [20/Nov/2018:12:12:30 +0000] "POST /a HTTP/1.1" 200 12345678901234567890 1.5',
    '10.0.0.1 - admin [20/Nov/2018:12:12:59 -0130] "POST /a HTTP/1.1" 200 1 1',
    '10.0.0.1 - admin [20/Nov/2018:12:12:59 +0130] "POST /a HTTP/1.1" 200 1 1',
    '10.0.0.1 - admin [31/Dec/2018:23:59:99 +0000] "POST /a HTTP/1.1" 200 1 1',
    'I, [2018-11-20T12:13:00.9 #1]  INFO -- prog: msg',
    'I, [2018-11-20T12:13:00.1234567891 #1]  INFO -- : ten fraction digits',
    'E, [2018-11-20T12:13:00.000000 #1] ERROR -- : [a] [b] tagged\nsecond line',
  );
  const rand = random(8);
  const bent: string[] = [];
  for (const line of lines) {
    for (let k = 0; k < 6; k++) {
      let s = line;
      for (let edits = 1 + Math.floor(rand() * 3); edits > 0; edits--) {
        const at = Math.floor(rand() * (s.length + 1));
        const c = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
        const how = rand();
        s = how < 0.4 ? s.slice(0, at) + c + s.slice(at + 1) : how < 0.7 ? s.slice(0, at) + c + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
      }
      bent.push(s);
    }
  }
  return [...lines, ...bent];
}

describe('the parsers agree with their reference regular expressions', () => {
  const lines = corpus();

  it(`parseAccessLine, on ${lines.length} real and bent lines`, () => {
    let parsed = 0;
    for (const line of lines) {
      const got = parseAccessLine(line);
      expect(got, line).toEqual(referenceParseAccessLine(line));
      if (got.ok) parsed++;
    }
    expect(parsed).toBeGreaterThan(3000);
  });

  it(`one AccessParser over the ${lines.length} lines in turn, its records too`, () => {
    // One parser for all: what it remembers of the lines before (the last stamp and its
    // minute) must never change what it reads from the next.
    const parser = new AccessParser();
    const records = new AccessParser();
    for (const line of linesOf(lines)) {
      const want = referenceParseAccessLine(line.text);
      expect(parser.parse(line.text), line.text).toEqual(want);
      const record = records.record(line);
      if (!want.ok) {
        expect(record, line.text).toBeNull();
        continue;
      }
      const { version: _version, zoneMinutes, ...fields } = want.value;
      expect(record, line.text).toEqual({ kind: 'access', ...fields, line, end: line.end });
      expect(records.zoneMinutes, line.text).toBe(zoneMinutes);
    }
  });

  it('one AccessParser over stamps that differ from the last in one place each', () => {
    const stamps = ['20/Nov/2018:12:12:30 +0000', '20/Nov/2018 12:12:30'];
    for (const first of [...stamps]) {
      for (let i = 0; i < first.length; i++) {
        // Each character bent to a neighbour of the same kind, and to one of another kind.
        for (const c of new Set([String.fromCharCode(first.charCodeAt(i) + 1), String.fromCharCode(first.charCodeAt(i) - 1), '9', 'a', ' ', 'é'])) {
          stamps.push(first.slice(0, i) + c + first.slice(i + 1));
        }
      }
    }
    const rand = random(21);
    const order = Array.from({ length: 4000 }, () => stamps[Math.floor(rand() * stamps.length)]!);
    const parser = new AccessParser();
    let parsed = 0;
    for (const stamp of order) {
      const line = `10.0.0.1 - admin [${stamp}] "POST /v1/order HTTP/1.1" 200 13 0.7541`;
      const got = parser.parse(line);
      expect(got, line).toEqual(referenceParseAccessLine(line));
      if (got.ok) parsed++;
    }
    expect(parsed).toBeGreaterThan(1000);
  });

  it.each(['UTC', 'Europe/Berlin', 'America/St_Johns'])(`parseLoggerLine in %s, on real and bent lines`, (zone) => {
    const toEpoch = localTimeConverter(zone);
    let parsed = 0;
    for (const line of lines) {
      const got = parseLoggerLine(line, toEpoch);
      expect(got, line).toEqual(referenceParseLoggerLine(line, toEpoch));
      if (got.ok) parsed++;
    }
    expect(parsed).toBeGreaterThan(2000);
  });
});
