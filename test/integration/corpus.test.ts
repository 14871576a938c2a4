import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Operation, WatchEvent } from '../../src/model.js';
import type { ExplainedLine } from '../../src/report/explain.js';
import { defaultConfig } from '../../src/defaults.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { replayFile } from '../../src/commands/replay.js';
import { fixture } from '../helpers/cli.js';

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
  /** Only where a case names phases: the records that entered one, with their times. */
  phases?: { line: string; at: string }[];
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
  // The rule an operator is promised: a success that names no operation ends the one that started first.
  'overlap-backup-restore': [
    { operation: 0, field: 'state', value: 'succeeded', why: 'the bare success at 04:01:28.853 ends the backup, which started first' },
    { operation: 0, field: 'finishedAt', value: '2018-11-22T04:01:28.853Z', why: 'the time of that success' },
  ],
  'agent-restart-puma': [
    { operation: 0, field: 'backupId', value: 'a9s-pg-1542859215559', why: "the restore logs 'Restoring backup a9s-pg-1542859215559' at 12:12:35" },
  ],
  'agent-restart-webrick': [
    { operation: 0, field: 'backupId', value: 'a9s-pg-1542859215559', why: "the restore logs 'Restoring backup a9s-pg-1542859215559' at 12:12:35" },
  ],
};

/** Lines a story attributes otherwise, with the operations `replay` tells them to. */
const ATTRIBUTION_CORRECTIONS: Record<string, { line: string; belongsTo: number[]; why: string }[]> = {
  'overlap-backup-restore': [
    { line: 'INFO -- : success', belongsTo: [0], why: 'names no operation: the one that started first' },
    { line: '[22/Nov/2018:04:00:46 +0000] "POST /v1/order', belongsTo: [0, 1], why: 'a poll answered 2xx is a sign of life for every active operation' },
    { line: '[22/Nov/2018:04:01:31 +0000] "POST /v1/order', belongsTo: [1], why: 'the restore is still running' },
  ],
};

const CASES = readdirSync(fixture('corpus'))
  .filter((f) => f.endsWith('.story.json'))
  .map((f) => f.slice(0, -'.story.json'.length))
  .sort();

/**
 * What `replay --json [--explain] FILE` prints, as JSON Lines. In-process (the
 * command's own function, with its defaults), so that a case costs no process
 * start; replay.test.ts runs the command line itself.
 */
async function replayed<T>(path: string, explain: boolean): Promise<T[]> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      text += chunk.toString();
      done();
    },
  });
  await replayFile(path, { json: true, explain, config: defaultConfig(), out });
  return text
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
    const events = await replayed<WatchEvent>(log, false);
    const ops = operationsOf(events).map(told);
    expect(ops.map((o) => `${o.kind} ${o.state}`), story.summary).toEqual(story.operations.map((o) => `${o.kind} ${o.state}`));
    story.operations.forEach((want, i) => {
      const got = ops[i]!;
      const where = `${name}: operation ${i}`;
      expect(Object.keys(want).filter((k) => k !== 'phases').sort(), `${where}: a field the test does not know`).toEqual(Object.keys(got).sort());
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

  it('tells the same events whether or not it explains them', () => {
    const bytes = readFileSync(log);
    const tell = (explain: boolean): WatchEvent[] => {
      const p = new Pipeline(pipelineOptions(defaultConfig()), log);
      if (explain) p.decisions = [];
      return [...p.push(bytes), ...p.finish()];
    };
    expect(tell(true)).toEqual(tell(false));
  });

  it('attributes every listed line to the operation it belongs to', async () => {
    const [events, lines] = await Promise.all([
      replayed<WatchEvent>(log, false),
      replayed<ExplainedLine>(log, true),
    ]);
    const ids = operationsOf(events).map((o) => o.id);
    const corrected = ATTRIBUTION_CORRECTIONS[name] ?? [];
    for (const { line, belongsTo } of story.attribution) {
      const matching = lines.flatMap((l, i) => (l.text.includes(line) ? [i] : []));
      expect(matching, `${name}: lines containing ${line}`).toHaveLength(1);
      const at = matching[0]!;
      const said = lines[at]!.decisions.map((d) => d.operation).filter((o) => o !== null);
      const why = `${name}: line ${at + 1} (${line}): ${JSON.stringify(lines[at]!.decisions)}`;
      const correction = corrected.find((c) => c.line === line);
      if (correction !== undefined) expect(said, why).toEqual(correction.belongsTo.map((i) => ids[i]));
      else if (belongsTo === null) expect(said, why).toEqual([]);
      else expect(said, why).toContain(ids[belongsTo]);
    }
    // Where a case names phases: exactly those records were told by a phase rule, each an event at its time.
    story.operations.forEach((want, i) => {
      if (want.phases === undefined) return;
      const named = lines.filter((l) => l.decisions.some((d) => d.operation === ids[i] && d.rule.includes('phases.')));
      const at = (l: ExplainedLine): number | null => ms(events.find((e) => e.offset === l.offset && e.operation.id === ids[i])?.time ?? null);
      expect(named.map((l) => [l.text, at(l)])).toEqual(want.phases.map((p) => [expect.stringContaining(p.line), ms(p.at)]));
    });
  });
});
