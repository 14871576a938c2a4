import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';

/** The rows of the README's error table: code, exit status, meaning. */
function documentedErrors(): Map<string, { exit: number; summary: string }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = new Map<string, { exit: number; summary: string }>();
  for (const m of readme.matchAll(/^\| `(RW_[A-Z_]+)` \| (\d+) \| (.+?) \|$/gm)) {
    rows.set(m[1]!, { exit: Number(m[2]), summary: m[3]! });
  }
  return rows;
}

describe('error catalogue', () => {
  it('and the README table say the same, both ways: every code, its exit status and its meaning', () => {
    const documented = documentedErrors();
    const catalogue = new Map(Object.entries(ERROR_CODES).map(([code, e]) => [code, { exit: e.exit, summary: e.summary }]));
    expect(documented.size).toBeGreaterThan(5);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(catalogue));
  });
});
