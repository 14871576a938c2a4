/**
 * State files damaged while the agent was down: lines of the journal that are
 * not events, a checkpoint lost, one with a wrong-typed field, one that is not
 * JSON. Before, a `null` journal line crashed every start; a lost checkpoint
 * reported every event again; a wrong-typed field left the agent serving but
 * reading nothing while /healthz said ok.
 */
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lineOfRestore, numberedLine, numberedLines } from '../helpers/lines.js';
import { events, verdicts, expectExactly, expectNoStackTrace, json, kill9, logLines, place, startAgent, stopCleanly, type Place } from './agent.js';

/** An agent that has read lines 1..20 and stopped. */
async function stoppedAfter20(): Promise<Place> {
  const p = place();
  appendFileSync(p.log, numberedLines(1, 20));
  const agent = startAgent(p);
  await expectExactly(await agent.url, 20);
  await stopCleanly(agent);
  return p;
}

/** Starts on the damaged state: it must serve 1..20 once, read 21..30, say ok, and survive a kill -9 after. */
async function recovers(p: Place): Promise<ReturnType<typeof startAgent>> {
  const agent = startAgent(p);
  const url = await agent.url;
  await expectExactly(url, 20);
  appendFileSync(p.log, numberedLines(21, 30));
  await expectExactly(url, 30);
  expect((await json(`${url}/healthz`)).body).toMatchObject({ ok: true });
  await kill9(agent);
  const again = startAgent(p);
  await expectExactly(await again.url, 30);
  expectNoStackTrace(agent);
  await stopCleanly(again);
  return agent;
}

describe('damaged state', () => {
  it('skips journal lines that are not events, counts and reports them, and keeps the events around them', async () => {
    const p = await stoppedAfter20();
    const file = join(p.stateDir, 'events.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.splice(6, 0, 'null', '{"id": garbage', '[1,2]');
    writeFileSync(file, lines.join('\n'));
    const agent = startAgent(p);
    const url = await agent.url;
    await expectExactly(url, 20);
    const status = (await json<{ counters: { persistence: { journalSkippedLines: number } } }>(`${url}/status`)).body;
    expect(status.counters.persistence.journalSkippedLines).toBe(3);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^restore_watcher_journal_skipped_lines_total 3$/m);
    expect(logLines(agent, /journal lines that are not events were skipped/)).toHaveLength(1);
    await stopCleanly(agent);
    await recovers(p);
  });

  it('says which event a damaged line took with it, and serves every other one once', async () => {
    const p = await stoppedAfter20();
    const file = join(p.stateDir, 'events.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    // The header, then events 1, 2, …: event 7's line is overwritten.
    expect(JSON.parse(lines[7]!)).toMatchObject({ id: 7 });
    lines[7] = '{"id": 7, garbage';
    writeFileSync(file, lines.join('\n'));
    const agent = startAgent(p);
    const url = await agent.url;
    const but7 = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((id) => id !== 7);
    await expect.poll(async () => (await events(url)).map((e) => e.id), { timeout: 10_000 }).toEqual(but7(40));
    const status = (await json<{ counters: { persistence: { journalSkippedLines: number; journalLostEvents: number } } }>(`${url}/status`)).body;
    expect(status.counters.persistence).toMatchObject({ journalSkippedLines: 1, journalLostEvents: 1 });
    expect(logLines(agent, /journal events lost with damaged lines/)).toEqual([expect.objectContaining({ events: 1, ids: ['7'] })]);
    appendFileSync(p.log, numberedLines(21, 25));
    await expect.poll(async () => (await events(url)).map((e) => e.id), { timeout: 10_000 }).toEqual(but7(50));
    await stopCleanly(agent);
  });

  it('rebuilds a lost checkpoint from the journal: nothing is reported again', async () => {
    const p = await stoppedAfter20();
    rmSync(join(p.stateDir, 'checkpoint.json'));
    const agent = await recovers(p);
    expect(logLines(agent, /checkpoint missing; rebuilding it from the journal/)).toHaveLength(1);
  });

  it.each([
    ['a wrong-typed tracker field', (c: Record<string, any>) => ({ ...c, tracker: { ...c.tracker, clock: 'soon' } })],
    ['a wrong-typed position', (c: Record<string, any>) => ({ ...c, position: { ...c.position, ino: '42' } })],
    ['a null tracker', (c: Record<string, any>) => ({ ...c, tracker: null })],
  ])('rebuilds a checkpoint with %s instead of trusting it', async (_name, damage) => {
    const p = await stoppedAfter20();
    const file = join(p.stateDir, 'checkpoint.json');
    writeFileSync(file, JSON.stringify(damage(JSON.parse(readFileSync(file, 'utf8')))));
    const agent = await recovers(p);
    expect(logLines(agent, /checkpoint not usable; rebuilding it from the journal/)).toHaveLength(1);
  });

  it('rebuilds a lost checkpoint after a rotation, with a journal past its bound: the new lines are reported once', async () => {
    const p = place();
    writeFileSync(p.config, JSON.stringify({ log: { path: p.log, pollIntervalMs: 20 }, journal: { maxEvents: 100, checkpointIntervalMs: 50 } }));
    appendFileSync(p.log, numberedLines(1, 150));
    let agent = startAgent(p);
    let url = await agent.url;
    // Two events per line (a refused restore: requested, failed).
    await expect.poll(async () => (await json<{ lastEventId: number }>(`${url}/status`)).body.lastEventId, { timeout: 10_000 }).toBe(300);
    await stopCleanly(agent);
    renameSync(p.log, `${p.log}.1`);
    writeFileSync(p.log, numberedLines(151, 155));
    rmSync(join(p.stateDir, 'checkpoint.json'));
    agent = startAgent(p);
    url = await agent.url;
    await expect.poll(async () => (await events(url)).at(-1)?.id, { timeout: 10_000 }).toBe(310);
    // The journal keeps what its bound allows, oldest dropped: ids without a gap, each line's verdict once, id 2 × line.
    const all = await events(url);
    const first = all[0]!.id;
    expect(all.map((e) => e.id)).toEqual(Array.from({ length: 311 - first }, (_, i) => first + i));
    expect(verdicts(all).map((e) => 2 * lineOfRestore(e.operation.id))).toEqual(verdicts(all).map((e) => e.id));
    await stopCleanly(agent);
  });

  it('rebuilds a lost checkpoint when the journal\'s newest line is now in a gzipped rotated copy', async () => {
    const p = await stoppedAfter20();
    writeFileSync(`${p.log}.1.gz`, gzipSync(readFileSync(p.log)));
    writeFileSync(p.log, numberedLines(21, 25));
    rmSync(join(p.stateDir, 'checkpoint.json'));
    const agent = startAgent(p);
    await expectExactly(await agent.url, 25);
    expect(logLines(agent, /checkpoint rebuilt from the journal/)[0]).toMatchObject({ knownThroughOffset: expect.any(Number) });
    await stopCleanly(agent);
  });

  it('rebuilds a lost checkpoint when the journal\'s newest line has bytes that are not UTF-8', async () => {
    const p = place();
    appendFileSync(p.log, numberedLines(1, 19));
    appendFileSync(p.log, Buffer.from(numberedLine(20).replace('admin', 'ad\u00ffmin'), 'latin1'));
    let agent = startAgent(p);
    await expectExactly(await agent.url, 20);
    await stopCleanly(agent);
    rmSync(join(p.stateDir, 'checkpoint.json'));
    await recovers(p);
  });

  it('rebuilds a checkpoint that is not JSON', async () => {
    const p = await stoppedAfter20();
    writeFileSync(join(p.stateDir, 'checkpoint.json'), '{"format": "restore-watcher.checkp\0\0\0');
    await recovers(p);
  });
});
