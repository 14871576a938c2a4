import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/defaults.js';
import { requiredWords } from '../../src/scan/required-words.js';

/** Each pattern, the words it must give, and strings it matches (each must contain one of them, ignoring case). */
const TABLE: [string, string[], string[]][] = [
  ['\\bdownload', ['download'], ['Downloading part 3', 'DOWNLOAD']],
  ['\\b(?:wal|xlog)\\b.*\\breplay|\\breplay(?:ing)? (?:the )?(?:wal|xlog)', ['replay', 'replay'], ['WAL files: replay', 'replaying the xlog']],
  ['ab+c', ['ab'], ['abbbc', 'xabc']],
  ['ab*cd', ['cd'], ['acd', 'abbcd']],
  ['a(?:bc|de)f', ['bc', 'de'], ['abcf', 'adef']],
  ['(a|b)+xyz?', ['xy'], ['abxy', 'bxyz']],
  ['abc|d.', ['abc', 'd'], ['abc', 'dx']],
  ['[a]bc', ['bc'], ['abc']],
  ['a\\.b{2,}c', ['a.b'], ['a.bbbc']],
  ['a{0}bcd', ['bcd'], ['bcd']],
  ['(?<n>abc)+', ['abc'], ['abcabc']],
  ['(?=abc)abd|xyz', ['abd', 'xyz'], ['xyz']],
  ['^start$', ['start'], ['start']],
  ['a\\-b\\/c', ['a-b/c'], ['a-b/c']],
  ['[^]x[\\]a]yz', ['yz'], ['qx]yz']],
];

/** Patterns it cannot be sure of. */
const UNKNOWN = ['[]]?ok', 'x\\x41y', 'a\\u0041', '\\cJ', '(?:a)|', 'é', 'foo{', 'a]', 'a}', '.*', '(?<=ab)|cd', '\\k<n>', 'a\\pL'];

const hasWord = (text: string, words: string[]): boolean => words.some((w) => text.toLowerCase().includes(w.toLowerCase()));

describe('requiredWords', () => {
  it.each(TABLE)('%s', (pattern, words, matching) => {
    const re = new RegExp(pattern, 'i');
    expect(requiredWords(re)).toEqual(words);
    for (const text of matching) {
      expect(re.test(text)).toBe(true);
      expect(hasWord(text, words)).toBe(true);
    }
  });

  it.each(UNKNOWN)('gives none for %s', (pattern) => {
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'i');
    } catch {
      return;
    }
    expect(requiredWords(re)).toBeNull();
  });

  it('gives none in unicode mode', () => {
    expect(requiredWords(/download/iu)).toBeNull();
  });

  it('gives words for every default phase', () => {
    for (const p of DEFAULT_CONFIG.track.rules.phases) expect(requiredWords(new RegExp(p.pattern, 'i'))).not.toBeNull();
  });
});
