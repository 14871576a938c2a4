/**
 * An access line read from its bytes must be exactly the record the expression makes of
 * its text: two parsers, one given each line's bytes and one not, read the same lines in
 * the same order (the stamp each keeps is part of what is compared), over the fixtures,
 * the corpus, seeded awkward logs and seeded awkward access lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AccessParser } from '../../src/parse/access.js';
import { awkwardLog } from '../helpers/awkward-log.js';
import { linesOf } from '../helpers/lines.js';
import { random } from '../helpers/random.js';
import { referenceParseAccessLine } from '../helpers/reference-parsers.js';

const fixtures = new URL('../../fixtures/', import.meta.url);
const corpus = new URL('corpus/', fixtures);

const logs: Array<[string, Buffer]> = [
  ...readdirSync(fixtures)
    .filter((f) => f.endsWith('.log'))
    .map((f): [string, Buffer] => [f, readFileSync(new URL(f, fixtures))]),
  ...readdirSync(corpus)
    .filter((f) => f.endsWith('.log'))
    .map((f): [string, Buffer] => [`corpus/${f}`, readFileSync(new URL(f, corpus))]),
  ...[1, 2, 3].map((seed): [string, Buffer] => [`awkward log ${seed}`, awkwardLog({ seed, lines: 2000 })]),
];

/** Bytes a line is read among: any, as the parser must read none outside the line. */
const AROUND = ' 0-9."[]\r\t';

/**
 * Reads `texts` (ASCII) with both parsers and returns how many lines each path
 * accepted; fails on the first line read otherwise. Each line's bytes sit in a buffer
 * between `AROUND`'s bytes, picked by `rand`.
 */
function compare(texts: string[], rand: () => number): number {
  const expression = new AccessParser();
  const bytes = new AccessParser();
  let accepted = 0;
  for (const text of texts) {
    const before = Math.floor(rand() * 3);
    const around = (n: number): string => Array.from({ length: n }, () => AROUND[Math.floor(rand() * AROUND.length)]).join('');
    const buffer = Buffer.from(around(before) + text + around(Math.floor(rand() * 3)), 'latin1');
    const line = linesOf([text], 'f')[0]!;
    const expected = expression.record(line);
    const actual = bytes.record(line, buffer, before);
    expect({ text, record: actual, zone: bytes.zoneMinutes }).toStrictEqual({ text, record: expected, zone: expression.zoneMinutes });
    if (expected !== null) accepted++;
  }
  return accepted;
}

const asciiLines = (bytes: Buffer): string[] =>
  bytes
    .toString('latin1')
    .split(/\r?\n/)
    .filter((t) => /^[\x00-\x7f]*$/.test(t));

describe('AccessParser from bytes', () => {
  it.each(logs)('reads %s as the expression does', (_name, bytes) => {
    compare(asciiLines(bytes), random(7));
  });

  // Fields chosen to sit at the edges of the format: shapes the expression reads one way
  // only, shapes it reads by backtracking, and shapes it refuses.
  const HOSTS = ['172.28.19.51', '2001:db8::1', '10.0.0.1, 10.0.0.2', '::1', '-', 'a - b', 'h\rx', ' ', 'x"y', '\r'];
  const USERS = ['-', 'admin', 'poll-1', 'a"b', '', 'a b', '- -', 'a\tb', '[x]', 'a\r', 'a\v', 'a\f'];
  const STAMPS = [
    '20/Nov/2018:12:00:00 +0000',
    '20/Nov/2018:12:00:01 +0000',
    '20/Nov/2018:12:01:00 +0100',
    '20/Nov/2018:12:01:00 -0530',
    '20/Nov/2018 12:00:00',
    '20/Nov/2018 12:00:01',
    '20/Foo/2018:12:00:00 +0000',
    '31/Feb/2018:12:00:00 +0000',
    '2/Nov/2018:12:00:00 +0000',
    '20/nov/2018:12:00:00 +0000',
    '20/Nov/2018:12:00:00 0000',
    '20/Nov/2018:12:00:00 +000',
    '20/Nov/2018T12:00:00 +0000',
  ];
  const METHODS = ['GET', 'POST', '', 'G"T', 'G\tT', 'G\vT', 'GET\r'];
  const TARGETS = ['/v1/order', '/v1/order?id=5&x=1', '/a"b', '/a b', '', '/?', '/x?y?z', '"', '/a\tb', '/v1/status?', '/a\fb', '/a\r'];
  const VERSIONS = [null, '', 'HTTP/1.1', 'HT"TP', 'a b', 'H\rT', '"'];
  const STATUSES = ['200', '204', '20', '2000', '-', '2x0'];
  const SIZES = ['13', '-', '', '--', '1.5', '1234567890123456789', '0'];
  const DURATIONS = ['0.7541', '1', '.5', '5.', '1.2.3', '12345678901234567.25', '0.1234567890123456789', '123456789012345', '0.0023', ''];
  const ENDS = ['', '', '', '', ' ', ' ', '  ', '\t', '\r', '"'];
  const EDITS = ' -"?[]:./+\t\r\v\f0123456789aZ';

  function awkwardLines(seed: number, count: number): string[] {
    const rand = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      // Mostly well-formed, so that stamps repeat and fields vary one at a time.
      const odd = (list: readonly string[] | readonly (string | null)[], fine: number): string | null => (rand() < 0.9 ? list[fine]! : pick(list));
      const version = odd(VERSIONS, 2);
      let text =
        `${odd(HOSTS, Math.floor(rand() * 4))} - ${odd(USERS, Math.floor(rand() * 3))} [${rand() < 0.7 ? STAMPS[Math.floor(rand() * 6)] : pick(STAMPS)}] ` +
        `"${odd(METHODS, 0)} ${odd(TARGETS, Math.floor(rand() * 2))}${version === null ? '' : ` ${version}`}" ` +
        `${odd(STATUSES, 0)} ${odd(SIZES, 0)} ${odd(DURATIONS, 0)}${pick(ENDS)}`;
      if (rand() < 0.3) {
        for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
          const at = Math.floor(rand() * (text.length + 1));
          const c = pick([...EDITS]);
          const edit = rand();
          text = edit < 0.4 ? text.slice(0, at) + c + text.slice(at) : edit < 0.7 ? text.slice(0, at) + c + text.slice(at + 1) : text.slice(0, at) + text.slice(at + 1);
        }
      }
      out.push(text);
    }
    return out;
  }

  it.each([1, 2, 3, 4, 5])('reads seeded awkward access lines (seed %i) as the expression does', (seed) => {
    const texts = awkwardLines(seed, 8000);
    const accepted = compare(texts, random(seed + 100));
    // The lines are awkward, not all refused: most must be records for the test to say anything.
    expect(accepted).toBeGreaterThan(texts.length / 4);
    // And the expression itself is the reference's (first written) reading of them.
    const parser = new AccessParser();
    for (const text of texts.slice(0, 2000)) {
      const reference = referenceParseAccessLine(text);
      const parsed = parser.parse(text);
      expect({ text, ok: parsed.ok, value: parsed.ok ? parsed.value : null }).toStrictEqual({
        text,
        ok: reference.ok,
        value: reference.ok ? reference.value : null,
      });
    }
  });

  // The parser keeps the last two requests it read: one of the same length that differs in
  // any one byte, between and after them, must be read anew.
  it('reads a request that differs from a kept one in one byte as its own', () => {
    const kept = 'POST /v1/order?id=12 HTTP/1.1';
    const texts: string[] = [];
    for (let i = 0; i < kept.length; i++) {
      for (const c of ['x', ' ', '?', '\t']) {
        if (kept[i] === c) continue;
        const changed = kept.slice(0, i) + c + kept.slice(i + 1);
        for (const request of [kept, changed, kept, 'GET /v1/status HTTP/1.1', changed, changed]) {
          texts.push(`172.28.19.51 - poll-1 [20/Nov/2018:12:00:00 +0000] "${request}" 200 13 0.7541`);
        }
      }
    }
    expect(compare(texts, random(11))).toBeGreaterThan(texts.length / 2);
  });

  // The bytes path is taken, not only allowed: where a line's bytes say another status
  // than its text, the record says the bytes' (a pipeline never gives such bytes).
  it.each([
    '172.28.19.51 - poll-1 [20/Nov/2018:12:00:00 +0000] "POST /v1/order HTTP/1.1" 200 13 0.7541',
    '2001:db8::1 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/order HTTP/1.1" 200 13 0.7541',
    '10.0.0.1, 10.0.0.2 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/order HTTP/1.1" 200 13 0.7541',
    '172.28.19.56 - - [20/Nov/2018:12:12:30 +0000] "GET /v1/status HTTP/1.1" 200 - 0.0001',
    '172.28.19.56 - admin [20/Nov/2018:12:12:30 +0000] "POST /v1/restore " 200 21 0.0023',
    '172.28.19.56 - admin [20/Nov/2018 12:12:30] "GET /v1/order?id=5&x=1 HTTP/1.0" 200 21 0.0023 ',
  ])('reads %s from its bytes', (text) => {
    const line = linesOf([text], 'f')[0]!;
    const bytes = Buffer.from(text.replace('" 200 ', '" 201 '), 'latin1');
    expect(new AccessParser().record(line, bytes, 0)).toMatchObject({ status: 201 });
    expect(new AccessParser().record(line)).toMatchObject({ status: 200 });
  });
});
