import { describe, expect, it } from 'vitest';
import { flushSplit, initialSplitState, resumeOffset, splitChunk, type SplitState } from '../../src/split/splitter.js';
import type { Line } from '../../src/model.js';
import { random } from '../helpers/random.js';

/** Feeds chunks in order; returns every line and the final state. */
function feed(chunks: Buffer[], max = 64): { lines: Line[]; state: SplitState } {
  let state = initialSplitState();
  const lines: Line[] = [];
  for (const c of chunks) {
    const r = splitChunk(state, c, 'f.log', max);
    state = r.state;
    lines.push(...r.lines);
  }
  return { lines, state };
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('splitChunk', () => {
  const cases: Array<{ name: string; chunks: Buffer[]; texts: string[]; offsets: number[]; ends: number[]; rest: number }> = [
    { name: 'one line', chunks: [b('abc\n')], texts: ['abc'], offsets: [0], ends: [4], rest: 0 },
    { name: 'two lines, one chunk', chunks: [b('a\nbc\n')], texts: ['a', 'bc'], offsets: [0, 2], ends: [2, 5], rest: 0 },
    { name: 'CRLF', chunks: [b('a\r\nb\r\n')], texts: ['a', 'b'], offsets: [0, 3], ends: [3, 6], rest: 0 },
    { name: 'CR split from LF across chunks', chunks: [b('ab\r'), b('\ncd\n')], texts: ['ab', 'cd'], offsets: [0, 4], ends: [4, 7], rest: 0 },
    { name: 'partial last line waits', chunks: [b('a\nbc')], texts: ['a'], offsets: [0], ends: [2], rest: 2 },
    { name: 'line across three chunks', chunks: [b('ab'), b('cd'), b('e\n')], texts: ['abcde'], offsets: [0], ends: [6], rest: 0 },
    { name: 'empty lines', chunks: [b('\n\n')], texts: ['', ''], offsets: [0, 1], ends: [1, 2], rest: 0 },
    { name: 'lone CR stays in the text', chunks: [b('a\rb\n')], texts: ['a\rb'], offsets: [0], ends: [4], rest: 0 },
  ];
  it.each(cases)('$name', ({ chunks, texts, offsets, ends, rest }) => {
    const { lines, state } = feed(chunks);
    expect(lines.map((l) => l.text)).toEqual(texts);
    expect(lines.map((l) => l.offset)).toEqual(offsets);
    expect(lines.map((l) => l.end)).toEqual(ends);
    expect(state.pending.length).toBe(rest);
    expect(lines.every((l) => !l.cut && !l.invalidUtf8 && l.file === 'f.log')).toBe(true);
  });

  it('says a chunk is ASCII only when it is, and then each line begun in it is its bytes at its offset', () => {
    const chunk = b('tail of an earlier line\r\nabc\r\nd"e f\n\nlast, unfinished');
    const state = { ...initialSplitState(100), pending: b('head '), pendingStart: 95 };
    const r = splitChunk(state, chunk, 'f.log', 64);
    expect(r.ascii).toBe(true);
    const begun = r.lines.filter((l) => l.offset >= 100);
    expect(begun.map((l) => l.text)).toEqual(['abc', 'd"e f', '']);
    for (const l of begun) expect(chunk.toString('latin1', l.offset - 100, l.offset - 100 + l.text.length)).toBe(l.text);
    expect(r.lines[0]).toMatchObject({ text: 'head tail of an earlier line', offset: 95 });
    expect(splitChunk(initialSplitState(), b('abc\nd\u00e9f\n'), 'f.log', 64).ascii).toBe(false);
    expect(splitChunk(initialSplitState(), Buffer.from([0x61, 0x0a, 0xff, 0x0a]), 'f.log', 64).ascii).toBe(false);
    expect(flushSplit(r.state, 'f.log').ascii).toBe(false);
  });

  it('joins a UTF-8 character split across chunks', () => {
    const bytes = b('größe ✓\n');
    for (let cut = 1; cut < bytes.length - 1; cut++) {
      const { lines } = feed([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.text).toBe('größe ✓');
      expect(lines[0]!.invalidUtf8).toBe(false);
    }
  });

  it('decodes each line of a chunk as UTF-8 when some of the chunk is not ASCII', () => {
    const { lines } = feed([b('plain\ngröße ✓\nplain again\n')]);
    expect(lines.map((l) => l.text)).toEqual(['plain', 'größe ✓', 'plain again']);
    expect(lines.every((l) => !l.invalidUtf8)).toBe(true);
  });

  it('makes the lines each line alone decodes to, however the bytes are cut into chunks', () => {
    const rand = random(5);
    const pieces = ['172.28.19.51 - admin "GET /v1/status" 200 13 0.7541', 'I, [2018-11-20T12:13:00] INFO -- : ok', '', '\r', 'größe ✓', '\u00e9'];
    const invalid = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x9c])];
    for (let round = 0; round < 200; round++) {
      const parts: Buffer[] = [];
      for (let n = 1 + Math.floor(rand() * 40); n > 0; n--) {
        const r = rand();
        parts.push(r < 0.05 ? invalid[Math.floor(rand() * invalid.length)]! : b(pieces[Math.floor(rand() * pieces.length)]!));
        if (rand() < 0.5) parts.push(b(rand() < 0.2 ? '\r\n' : '\n'));
      }
      parts.push(b('\n'));
      const bytes = Buffer.concat(parts);
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 400));
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      const want: Array<[string, boolean, number]> = [];
      for (let at = 0; at < bytes.length; ) {
        const nl = bytes.indexOf(0x0a, at);
        let line = bytes.subarray(at, nl);
        if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        want.push([line.toString('utf8'), !Buffer.from(line.toString('utf8')).equals(line), at]);
        at = nl + 1;
      }
      const { lines } = feed(chunks, 1 << 20);
      expect(lines.map((l) => [l.text, l.invalidUtf8, l.offset])).toEqual(want);
    }
  });

  it('flags invalid bytes without throwing and keeps valid neighbours clean', () => {
    const { lines } = feed([Buffer.concat([b('ok\n'), Buffer.from([0xff, 0xfe, 0x41, 0x0a]), b('fine\n')])]);
    expect(lines.map((l) => l.invalidUtf8)).toEqual([false, true, false]);
    expect(lines[1]!.text).toBe('\ufffd\ufffdA');
  });

  it('cuts an over-long line, flags it and skips the rest up to the newline', () => {
    const long = 'x'.repeat(100);
    const { lines, state } = feed([b(`${long}\nnext\n`)], 10);
    expect(lines.map((l) => [l.text, l.cut])).toEqual([
      ['x'.repeat(10), true],
      ['next', false],
    ]);
    expect(lines[0]!.end).toBe(101);
    expect(lines[1]!.offset).toBe(101);
    expect(state.pending.length).toBe(0);
  });

  it('keeps memory bounded while an over-long line arrives in many chunks', () => {
    let state = initialSplitState();
    for (let i = 0; i < 1000; i++) {
      state = splitChunk(state, b('y'.repeat(1000)), 'f.log', 64).state;
      expect(state.pending.length).toBeLessThanOrEqual(64);
    }
    const r = splitChunk(state, b('\nz\n'), 'f.log', 64);
    expect(r.lines.map((l) => [l.text.length, l.cut, l.offset, l.end])).toEqual([
      [64, true, 0, 1_000_001],
      [1, false, 1_000_001, 1_000_003],
    ]);
  });

  it('does not cut a multi-byte character in half when cutting a line', () => {
    const { lines } = feed([b(`${'a'.repeat(9)}✓✓✓\n`)], 10);
    expect(lines[0]!.text).toBe('a'.repeat(9));
    expect(lines[0]!.invalidUtf8).toBe(false);
  });

  it('reports the start of an unfinished line as the offset to resume from', () => {
    const { state } = feed([b('done\nhalf')]);
    expect(resumeOffset(state)).toBe(5);
    expect(state.offset).toBe(9);
  });

  it('starts at a given offset', () => {
    const r = splitChunk(initialSplitState(1000), b('a\n'), 'f.log', 64);
    expect(r.lines[0]!.offset).toBe(1000);
    expect(r.lines[0]!.end).toBe(1002);
  });

  it('flushes a last line without a newline at the end of a file', () => {
    const { state } = feed([b('a\nlast')]);
    const r = flushSplit(state, 'f.log');
    expect(r.lines.map((l) => [l.text, l.offset, l.end])).toEqual([['last', 2, 6]]);
    expect(flushSplit(r.state, 'f.log').lines).toEqual([]);
  });
});
