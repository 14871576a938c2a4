import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Operation, WatchEvent } from '../../src/model.js';
import { cli } from '../helpers/cli.js';

// docs/rules.md's worked examples, as an operator would use them: each config
// passes check-config, and replay --config tells the story the text says, where
// the defaults tell another.

const DOC = readFileSync(fileURLToPath(new URL('../../docs/rules.md', import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'rules-docs-'));

function example(name: string): { log: string; config: string } {
  const block = (what: string): string => {
    const m = new RegExp(`<!-- example ${name} ${what} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(DOC);
    if (m === null) throw new Error(`docs/rules.md has no ${what} for example ${name}`);
    const path = join(dir, `${name}.${what === 'log' ? 'log' : 'json'}`);
    writeFileSync(path, m[1]!);
    return path;
  };
  return { log: block('log'), config: block('config') };
}

async function operations(args: string[]): Promise<Operation[]> {
  const r = await cli(['replay', '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  const byId = new Map<string, Operation>();
  for (const line of String(r.stdout).split('\n').filter((l) => l !== '')) {
    const e = JSON.parse(line) as WatchEvent;
    byId.set(e.operation.id, e.operation);
  }
  return [...byId.values()];
}

async function checkConfig(path: string): Promise<string> {
  const r = await cli(['check-config', path]);
  expect(r.exitCode).toBe(0);
  return String(r.stdout).trim();
}

describe('check-config on track.rules', () => {
  it('names each rule it cannot use, and what it expected', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        track: {
          rules: {
            restoreRequest: { path: '/v2/restores/:id', pattern: '/v2/restores/.*' },
            pollFailureStatuses: ['5xx', '999'],
            successMessages: ['(unclosed'],
            phases: [{ name: 'WAL replay', pattern: 'wal' }],
          },
        },
      }),
    );
    const r = await cli(['check-config', path]);
    expect(r.exitCode).toBe(1);
    const out = String(r.stdout);
    expect(out).toContain('track.rules.restoreRequest: give exactly one of path and pattern');
    expect(out).toContain('track.rules.pollFailureStatuses.1: expected a status code such as "404" or a class such as "5xx"');
    expect(out).toContain('track.rules.successMessages.0: expected a valid regular expression');
    expect(out).toMatch(/track\.rules\.phases\.0\.name: expected a short name/);
  });
});

describe('docs/rules.md', () => {
  it('1. reads requests with other paths', async () => {
    const { log, config } = example('paths');
    expect(await checkConfig(config)).toBe('ok');
    const before = await operations([log]);
    expect(before.map((o) => [o.state, o.requestSeen, o.orderPolls])).toEqual([['succeeded', false, 0]]);
    const [restore, ...none] = await operations(['--config', config, log]);
    expect(none).toEqual([]);
    expect(restore).toMatchObject({
      kind: 'restore',
      state: 'succeeded',
      requestSeen: true,
      requestedAt: '2018-11-20T12:12:30.000Z',
      requestedBy: '10.0.8.5',
      requestedByUser: 'admin',
      namedBackupId: 'a9s-pg-1542859215559',
      orderPolls: 2,
      finishedAt: '2018-11-20T12:13:00.939Z',
    });
  });

  it('2. fails on a message logged at INFO, through named phases', async () => {
    const { log, config } = example('aborted');
    expect(await checkConfig(config)).toBe('ok');
    expect((await operations([log])).map((o) => [o.state, o.phase])).toEqual([['running', null]]);
    const r = await cli(['replay', '--json', '--config', config, log]);
    const events = String(r.stdout)
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as WatchEvent);
    expect(events.map((e) => e.operation.phase)).toEqual([null, 'download', 'restore', 'restore']);
    expect(events.at(-1)!.operation).toMatchObject({
      state: 'failed',
      finishedAt: '2018-11-20T13:01:10.000Z',
      failure: 'Restore aborted: pg_restore exited with status 1',
    });
  });

  it('3. waits longer for a success after retried errors', async () => {
    const { log, config } = example('retries');
    expect(await checkConfig(config)).toBe('ok');
    expect((await operations([log])).map((o) => [o.state, o.finishedAt])).toEqual([['failed', '2018-11-20T14:00:05.000Z']]);
    const [restore] = await operations(['--config', config, log]);
    expect(restore).toMatchObject({ state: 'succeeded', finishedAt: '2018-11-20T14:03:30.000Z', orderPolls: 2 });
    expect(restore!.warnings).toEqual(['download failed (connection reset), retrying in 120s']);
  });
});
