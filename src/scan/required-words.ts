/**
 * Owns one question about a regular expression: which words every match of it
 * contains. `requiredWords(re)` gives words such that any string the expression
 * matches contains one of them, ASCII letters in either case; null when that
 * cannot be told from its source. The lazy reader searches raw bytes for them
 * to find the lines a message rule may match without decoding every line.
 *
 * Hand-written: no library answers this for JavaScript's own syntax. It reads
 * only what it can be sure of and gives up (null) on anything else: escapes with
 * arguments (`\x41`, `\u0041`, `\cJ`, `\k<n>`), unicode-mode expressions, braces
 * that are not a quantifier. Being unsure of part of a sequence costs nothing
 * but precision: that part just adds no word.
 *
 * Sound for case-insensitive expressions too: without the `u` flag, a letter
 * outside ASCII never matches an ASCII one, so the ASCII words a match contains
 * are in the bytes of a UTF-8 text whatever its other characters.
 */

/** Words one of which every match contains; null: unknown. */
type Words = string[] | null;

class GiveUp extends Error {}

/** Words one of which every match of `re` contains (ASCII, compare ignoring case), or null. */
export function requiredWords(re: RegExp): string[] | null {
  if (re.unicode || re.flags.includes('v')) return null;
  try {
    const reader = new Reader(re.source);
    const words = reader.alternation();
    if (reader.at < re.source.length) return null;
    return words === null || words.length === 0 || words.some((w) => w === '') ? null : words;
  } catch (err) {
    if (err instanceof GiveUp) return null;
    throw err;
  }
}

/** Characters that mean something in a pattern outside a class. */
const SYNTAX = new Set('^$\\.*+?()[]{}|/');
const CLASS_ESCAPES = new Set('dDwWsS');

class Reader {
  at = 0;
  constructor(private readonly src: string) {}

  /** a|b|…: every alternative must have words; a match contains one of any of them. */
  alternation(): Words {
    let all: string[] | null = [];
    for (;;) {
      const words = this.sequence();
      all = all === null || words === null ? null : [...all, ...words];
      if (this.src[this.at] !== '|') return all;
      this.at++;
    }
  }

  /** Items in a row: the best of the words each item that must occur gives, runs of literal characters among them. */
  private sequence(): Words {
    let best: Words = null;
    let run = '';
    const take = (words: Words): void => {
      if (words !== null && (best === null || rank(words) > rank(best))) best = words;
    };
    const flush = (): void => {
      if (run !== '') take([run]);
      run = '';
    };
    // A literal character: the run goes on, or ends at it when it may repeat or be absent
    // (what follows then need not come right after the run and one of it).
    const literal = (c: string): void => {
      const start = this.at;
      const min = this.quantifierMin();
      if (this.at === start) run += c;
      else if (min === 0) flush();
      else {
        run += c;
        flush();
      }
    };
    for (;;) {
      const c = this.src[this.at];
      if (c === undefined || c === '|' || c === ')') break;
      this.at++;
      if (c === '^' || c === '$') continue; // zero-width: the characters around it are still next to each other
      if (c === '\\') {
        const e = this.src[this.at++];
        if (e === undefined) throw new GiveUp();
        if (e === 'b' || e === 'B') continue;
        if (CLASS_ESCAPES.has(e) || (e >= '1' && e <= '9')) {
          flush();
          this.skipQuantifier();
          continue;
        }
        if (!isPrintableAscii(e) || /[A-Za-z0-9_]/.test(e)) throw new GiveUp();
        literal(e);
        continue;
      }
      if (c === '.') {
        flush();
        this.skipQuantifier();
        continue;
      }
      if (c === '[') {
        this.skipClass();
        flush();
        this.skipQuantifier();
        continue;
      }
      if (c === '(') {
        flush();
        const look = this.src.startsWith('?=', this.at) || this.src.startsWith('?!', this.at) || this.src.startsWith('?<=', this.at) || this.src.startsWith('?<!', this.at);
        if (this.src.startsWith('?:', this.at)) this.at += 2;
        else if (look) this.at += this.src[this.at + 1] === '<' ? 3 : 2;
        else if (this.src.startsWith('?<', this.at)) {
          const close = this.src.indexOf('>', this.at);
          if (close === -1) throw new GiveUp();
          this.at = close + 1;
        } else if (this.src[this.at] === '?') throw new GiveUp();
        const inner = this.alternation();
        if (this.src[this.at] !== ')') throw new GiveUp();
        this.at++;
        const min = this.quantifierMin();
        if (!look && min >= 1) take(inner);
        continue;
      }
      if (SYNTAX.has(c) || !isPrintableAscii(c)) {
        // A quantifier with nothing before it, a stray brace or bracket, a character outside ASCII.
        if (c === '*' || c === '+' || c === '?' || c === '{' || c === '}' || c === ']') throw new GiveUp();
        flush();
        this.skipQuantifier();
        continue;
      }
      literal(c);
    }
    flush();
    return best;
  }

  /** Reads a quantifier if one follows; its minimum (1 without one). */
  private quantifierMin(): number {
    const c = this.src[this.at];
    let min = 1;
    if (c === '*' || c === '?') {
      min = 0;
      this.at++;
    } else if (c === '+') this.at++;
    else if (c === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(this.src.slice(this.at));
      if (m === null) throw new GiveUp();
      min = Number(m[1]);
      this.at += m[0].length;
    } else return 1;
    if (this.src[this.at] === '?') this.at++;
    return min;
  }

  private skipQuantifier(): void {
    this.quantifierMin();
  }

  private skipClass(): void {
    // `[]` is the empty class and `[^]` any character: a `]` right after them closes it.
    if (this.src[this.at] === '^') this.at++;
    for (;;) {
      const c = this.src[this.at++];
      if (c === undefined) throw new GiveUp();
      if (c === '\\') this.at++;
      else if (c === ']') return;
    }
  }
}

/** Longer shortest words are rarer; among equals, fewer words. */
function rank(words: string[]): number {
  return Math.min(...words.map((w) => w.length)) * 1000 - words.length;
}

function isPrintableAscii(c: string): boolean {
  const code = c.charCodeAt(0);
  return code >= 0x20 && code <= 0x7e;
}
