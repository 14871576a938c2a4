import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Operation, WatchEvent } from '../../src/model.js';
import type { ExplainedLine } from '../../src/report/explain.js';
import { cli, fixture } from '../helpers/cli.js';

// Each log in fixtures/corpus was written by the real Ruby libraries (see its
// README and scripts/corpus); its story.json is the operator's account of what
// happened. `replay` must tell exactly that story: every operation with its
// outcome, times, requester, backup and failure, and every listed line
// attributed to the operation it belongs to.

interface StoryOperation {
  kind: 'restore' | 'backup';
  state: string;
  requestedAt: string | null;
  finishedAt: string | null;
  requestedBy: { host: string; user: string | null } | null;
  backupId: string | null;
  failure: string | null;
  warnings: string[];
}

interface Story {
  case: string;
  summary: string;
  operations: StoryOperation[];
  attribution: { line: string; belongsTo: number | null }[];
}

/**
 * Where a story says less than its log: the value `replay` must tell instead,
 * and why. Each entry is a claim about the log that a reader can check.
 */
const STORY_CORRECTIONS: Record<string, { operation: number; field: keyof StoryOperation; value: unknown; why: string }[]> = {
  'agent-restart-puma': [
    { operation: 0, field: 'backupId', value: 'a9s-pg-1542859215559', why: "the restore logs 'Restoring backup a9s-pg-1542859215559' at 12:12:35" },
  ],
  'agent-restart-webrick': [
    { operation: 0, field: 'backupId', value: 'a9s-pg-1542859215559', why: "the restore logs 'Restoring backup a9s-pg-1542859215559' at 12:12:35" },
  ],
};

const CASES = readdirSync(fixture('corpus'))
  .filter((f) => f.endsWith('.story.json'))
  .map((f) => f.slice(0, -'.story.json'.length))
  .sort();

async function jsonLines<T>(args: string[]): Promise<T[]> {
  const r = await cli(args);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return String(r.stdout)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Times to the millisecond, as the tracker keeps them (the stories write Ruby's microseconds). */
const ms = (t: string | null): number | null => (t === null ? null : Date.parse(t));

/** The operations as the last event of each left them, in the order they were first requested. */
function operationsOf(events: WatchEvent[]): Operation[] {
  const byId = new Map<string, Operation>();
  for (const e of events) byId.set(e.operation.id, e.operation);
  return [...byId.values()];
}

/** A field every operation the tracker makes has (optional only for operations journaled by earlier versions). */
function present<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`operation without ${field}`);
  return value;
}

function told(op: Operation): StoryOperation {
  return {
    kind: op.kind,
    state: op.state,
    requestedAt: op.requestSeen === false ? null : op.requestedAt,
    finishedAt: op.finishedAt,
    requestedBy: op.requestSeen === false ? null : { host: op.requestedBy, user: present(op.requestedByUser, 'requestedByUser') },
    backupId: present(op.namedBackupId, 'namedBackupId'),
    failure: op.failure,
    warnings: present(op.warnings, 'warnings'),
  };
}

describe.each(CASES)('corpus case %s', (name) => {
  const story = JSON.parse(readFileSync(fixture(`corpus/${name}.story.json`), 'utf8')) as Story;
  for (const c of STORY_CORRECTIONS[name] ?? []) (story.operations[c.operation] as unknown as Record<string, unknown>)[c.field] = c.value;
  const log = fixture(`corpus/${name}.log`);

  it('tells the story: every operation, its outcome, times, requester, backup, failure and warnings', async () => {
    const events = await jsonLines<WatchEvent>(['replay', '--json', log]);
    const ops = operationsOf(events).map(told);
    expect(ops.map((o) => `${o.kind} ${o.state}`), story.summary).toEqual(story.operations.map((o) => `${o.kind} ${o.state}`));
    story.operations.forEach((want, i) => {
      const got = ops[i]!;
      const where = `${name}: operation ${i}`;
      expect(Object.keys(want).sort(), `${where}: a field the test does not know`).toEqual(Object.keys(got).sort());
      expect(ms(got.requestedAt), `${where} requestedAt`).toBe(ms(want.requestedAt));
      expect(ms(got.finishedAt), `${where} finishedAt`).toBe(ms(want.finishedAt));
      expect(got.requestedBy, `${where} requestedBy`).toEqual(want.requestedBy);
      expect(got.backupId, `${where} backupId`).toBe(want.backupId);
      if (want.failure === null) expect(got.failure, `${where} failure`).toBeNull();
      else expect(got.failure, `${where} failure`).toContain(want.failure);
      expect(got.warnings, `${where} warnings`).toHaveLength(want.warnings.length);
      want.warnings.forEach((w, k) => expect(got.warnings[k], `${where} warning ${k}`).toContain(w));
    });
    // Every restore has a beginning, and ends once.
    for (const op of operationsOf(events)) {
      const own = events.filter((e) => e.operation.id === op.id);
      expect(own[0]!.type, op.id).toBe(`${op.kind}.requested`);
      expect(own.filter((e) => e.type.endsWith('.succeeded') || e.type.endsWith('.failed')).length).toBeLessThanOrEqual(1);
    }
  });

  it('attributes every listed line to the operation it belongs to', async () => {
    const [events, lines] = await Promise.all([
      jsonLines<WatchEvent>(['replay', '--json', log]),
      jsonLines<ExplainedLine>(['replay', '--explain', '--json', log]),
    ]);
    const ids = operationsOf(events).map((o) => o.id);
    let from = 0;
    for (const { line, belongsTo } of story.attribution) {
      const at = lines.findIndex((l, i) => i >= from && l.text.includes(line));
      expect(at, `${name}: no line containing ${line}`).toBeGreaterThanOrEqual(0);
      from = at + 1;
      const said = lines[at]!.decisions.map((d) => d.operation).filter((o) => o !== null);
      const why = `${name}: line ${at + 1} (${line}): ${JSON.stringify(lines[at]!.decisions)}`;
      if (belongsTo === null) expect(said, why).toEqual([]);
      else expect(said, why).toContain(ids[belongsTo]);
    }
  });
});
