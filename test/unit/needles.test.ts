/**
 * The idle scan (src/scan/needles.ts) by its one-pass WebAssembly scan against
 * the same scan by Buffer.indexOf alone, over logs built to put needles, near
 * misses, banners, exception reports and newlines at every offset of the
 * scan's 16-byte steps: every call must give the same line and line count.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import { pipelineOptions } from '../../src/pipeline.js';
import { NeedleScan, needlesFor, type Needles } from '../../src/scan/needles.js';
import { choosePair } from '../../src/scan/simd-scan.js';
import { awkwardLog } from '../helpers/awkward-log.js';
import { random } from '../helpers/random.js';

const LF = 0x0a;

const PIECES = [
  '172.28.19.51 - u [20/Nov/2018:12:00:00 +0000] "POST /v1/order HTTP/1.1" 200 41 0.0036',
  '172.28.19.51 - u [20/Nov/2018:12:00:00 +0000] "POST /v1/restore HTTP/1.1" 201 21 0.0023',
  '10.0.0.1 - - [20/Nov/2018:12:00:00 +0000] "POST /v1/backup HTTP/1.1" 201 21 0.0023',
  '"POST /v1/restor',
  '"POST /v1/backu',
  'POST /v1/restore',
  '"POST /v1/restore',
  'I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : heartbeat sent to backup manager',
  'I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : Started POST "/v1/order" for 172.28.19.51',
  'I, [2018-11-20T12:13:00.939338 #31554]  INFO -- : Started GET "/v1/status" for ::1 at 2018-11-20 12:13:00 +0000',
  'Started GET "/v1/sta',
  'Started ',
  'Starte',
  'Puma starting in single mode...',
  '* PID: 4242',
  'Use Ctrl-C to stop',
  '== Sinatra (v2.0.4) has taken the stage on 4567 for production',
  '>> Thin web server (v1.7.2 codename Bachmanity)',
  '[2018-11-20 12:13:00] INFO  WEBrick 1.4.2',
  'Pending',
  '[not a banner',
  '2018-11-20 12:13:00 - RuntimeError - boom:',
  '2018',
  '12-4',
  '1234-',
  'downloading the base backup',
  'Restoring',
  '',
  'x',
  '\r',
];

/** A log of random pieces, a few on a line, so that every byte offset comes up. */
function piecesLog(seed: number, bytes: number): Buffer {
  const rand = random(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    let line = '';
    for (let k = Math.floor(rand() * 3); k >= 0; k--) line += PIECES[Math.floor(rand() * PIECES.length)];
    if (rand() < 0.3) line = ' '.repeat(Math.floor(rand() * 17)) + line;
    parts.push(line);
    n += line.length + 1;
  }
  return Buffer.from(`${parts.join('\n')}\n`);
}

/** Every answer of `scan` over `buf` read as the lazy reader reads it: skip to the line that matters, step over it, go on. */
function answers(scan: NeedleScan, buf: Buffer, chunk: number, before: boolean): { stops: { at: number; lines: number }[]; lines: number } {
  const out: { at: number; lines: number }[] = [];
  let lines = 0;
  for (let base = 0; base < buf.length; ) {
    // A chunk of its own (another Buffer object), ending at its last newline, as process() is given one.
    const piece = Buffer.from(buf.subarray(base, Math.min(buf.length, base + chunk)));
    const end = piece.lastIndexOf(LF) + 1;
    if (end === 0) {
      // Inside a line longer than a chunk (the lazy reader gives those to the pipeline): stepped over.
      const lf = buf.indexOf(LF, base);
      if (lf === -1) break;
      lines++;
      base = lf + 1;
      continue;
    }
    let pos = 0;
    while (pos < end) {
      const stop = scan.firstThatMatters(piece, pos, end, before);
      out.push({ at: stop.at + base, lines: stop.lines });
      lines += stop.lines;
      if (stop.at >= end) break;
      pos = piece.indexOf(LF, stop.at) + 1;
      lines++;
    }
    base += end;
  }
  return { stops: out, lines };
}

const DEFAULT_NEEDLES = needlesFor(pipelineOptions(defaultConfig()).rules)!;
const OTHER_NEEDLES: Needles = { starts: [Buffer.from('"PUT /api/x'), Buffer.from('"GET /v2/restore')], polls: null, unrequested: ['restor'] };

describe('NeedleScan: the one-pass scan against Buffer.indexOf', () => {
  const logs: [string, Buffer][] = [
    ...[1, 2, 3].map((seed): [string, Buffer] => [`pieces ${seed}`, piecesLog(seed, 200_000)]),
    ...[4, 5].map((seed): [string, Buffer] => [`awkward ${seed}`, awkwardLog({ seed, lines: 3000 })]),
  ];
  for (const [name, buf] of logs) {
    for (const [needlesName, needles] of [
      ['default rules', DEFAULT_NEEDLES],
      ['other rules', OTHER_NEEDLES],
    ] as const) {
      it.each([
        [65536, false],
        [65536, true],
        [20011, false],
        [262144, true],
      ])(`${name}, ${needlesName}, chunks of %i, before the first operation: %s`, (chunk, before) => {
        const simd = new NeedleScan(needles, 65536);
        const plain = new NeedleScan(needles, 65536, false);
        const got = answers(simd, buf, chunk, before);
        expect(simd.scansInOnePass).toBe(true);
        expect(plain.scansInOnePass).toBe(false);
        expect(got.stops).toEqual(answers(plain, buf, chunk, before).stops);
        // Lines are counted exactly: the answers' lines and the lines stepped over are every line.
        expect(got.lines).toBe(buf.toString('latin1').split('\n').length - 1);
      });
    }
  }

  it('finds a needle whose compared bytes are common, and one of a single byte', () => {
    const needles: Needles = { starts: [Buffer.from('"POST /v1/restore'), Buffer.from('#')], polls: null, unrequested: null };
    const sample = Buffer.from(`${'"POST /v1/order HTTP/1.1" 200\n'.repeat(600)}`);
    const buf = Buffer.concat([sample, Buffer.from('x "POST /v1/restore y\nabc\nq#\n')]);
    const simd = new NeedleScan(needles, 65536);
    const first = simd.firstThatMatters(buf, 0, buf.length);
    expect(simd.scansInOnePass).toBe(true);
    expect(first).toEqual({ at: sample.length, lines: 600 });
    expect(simd.firstThatMatters(buf, sample.length + 22, buf.length)).toEqual({ at: sample.length + 26, lines: 1 });
  });
});

describe('choosePair', () => {
  it("compares a needle's rarest byte and the byte that least often matches with it", () => {
    const sample = Buffer.from('"POST /v1/order HTTP/1.1"\n"GET /v1/status"\nStarted POST\n'.repeat(50));
    const count = new Uint32Array(256);
    for (const b of sample) count[b]!++;
    const pair = choosePair(Buffer.from('"POST /v1/restore'), sample, count);
    const { bytes, o1, o2 } = pair;
    expect(o1).not.toBe(o2);
    // Both compared bytes never occur at those distances in the sample.
    let both = 0;
    for (let i = 0; i + bytes.length <= sample.length; i++) if (sample[i + o1] === bytes[o1] && sample[i + o2] === bytes[o2]) both++;
    expect(both).toBe(0);
  });
});
