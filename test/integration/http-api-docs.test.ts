import { appendFileSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { serviceForTest } from '../helpers/service.js';
import { SLOW } from '../helpers/watch.js';

/** The first JSON block under `heading` in docs/http-api.md. */
function documented(heading: string): unknown {
  const doc = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf(`\n${heading}\n`));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  if (block === null) throw new Error(`no JSON example under ${heading}`);
  return JSON.parse(block[1]!);
}

/** The keys and JSON types of a value, all the way down: what a reader of the docs relies on. */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shape(v)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  }
  return typeof value;
}

describe('docs/http-api.md', () => {
  it('documents the exact shape of a real /status after a failed restore', async () => {
    const service = await serviceForTest({
      probe: { command: [process.execPath, '-e', '0'], intervalSeconds: 0.1 },
      // An error fails a restore when no success follows within the grace: a second here, not a minute.
      track: { rules: { failureGraceSeconds: 1 } },
    });
    for (const name of ['backup-then-restore.log', 'restore-failed-backtrace.log']) appendFileSync(service.logPath, readFileSync(fixture(name)));
    const status = async (): Promise<Record<string, any>> => (await fetch(`${service.url}/status`)).json() as Promise<Record<string, any>>;
    await expect.poll(async () => (await status()).lastRestore?.state, SLOW).toBe('failed');
    await expect.poll(async () => (await status()).postgresql?.state, SLOW).toBe('ready');
    const real = await status();
    expect(real.state).toBe('idle');
    expect(shape(documented('## GET /status'))).toEqual(shape(real));
  });
});
