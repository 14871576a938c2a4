/**
 * A kept run of bytes matches exactly the same bytes, wherever they lie in whatever
 * buffer, and nothing that differs in any one byte: its words cover every byte.
 */
import { describe, expect, it } from 'vitest';
import { KeptBytes, WordView } from '../../src/parse/kept-bytes.js';
import { random } from '../helpers/random.js';

describe('KeptBytes', () => {
  const rand = random(3);
  const bytesOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));

  it.each([4, 5, 6, 7, 8, 9, 13, 20, 26, 31, 32, 33, 64, 127, 128])('a run of %i bytes, in buffers at any offset', (n) => {
    const run = bytesOf(n);
    const kept = new KeptBytes(128);
    const view = new WordView();
    // Kept from one slice of a larger buffer, compared in slices of others.
    const first = Buffer.concat([bytesOf(3), run, bytesOf(5)]);
    view.on(first.subarray(1));
    kept.keep(view, 2, n);
    expect(kept.length).toBe(n);
    for (const before of [0, 1, 2, 3, 7]) {
      const other = Buffer.concat([bytesOf(before), run, bytesOf(4)]);
      view.on(other);
      expect(kept.matches(view, before)).toBe(true);
      for (let i = 0; i < n; i++) {
        const changed = Buffer.from(other);
        changed[before + i] = changed[before + i]! ^ (1 << Math.floor(rand() * 8));
        view.on(changed);
        expect(kept.matches(view, before)).toBe(false);
      }
    }
    // Kept from codes, the same run.
    const codes = new KeptBytes(128);
    codes.keepCodes(new Uint8Array(run), n);
    view.on(run);
    expect(codes.matches(view, 0)).toBe(true);
  });

  it('keeps no run shorter than a word or longer than its room', () => {
    const view = new WordView();
    view.on(bytesOf(200));
    const kept = new KeptBytes(26);
    kept.keep(view, 0, 20);
    expect(kept.length).toBe(20);
    kept.keep(view, 0, 27);
    expect(kept.length).toBe(-1);
    kept.keep(view, 0, 3);
    expect(kept.length).toBe(-1);
  });
});
