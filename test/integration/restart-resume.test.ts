/**
 * A restart resumes from the checkpoint: event ids continue, a running restore
 * keeps its id and state, and a log rotated while the agent was down is read from
 * its rotated copy first.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE } from '../../src/journal/checkpoint.js';
import { JOURNAL_FILE } from '../../src/journal/store.js';
import { agentDir, deliveredBy, startDrivenAgent } from '../helpers/agent.js';
import { access, logger, numberedLines, upTo } from '../helpers/lines.js';
import { BOSH_DIRECTIVES, logrotate, renameRotate } from '../helpers/rotate.js';
import { haveTool } from '../helpers/tools.js';

describe('restarting', () => {
  it('keeps a running restore: same id, same state, ids continuing, nothing repeated', async () => {
    const where = agentDir();
    appendFileSync(where.log, `${access('12:00:00', '/v1/restore')}\n${access('12:00:05', '/v1/order')}\n`);
    let agent = await startDrivenAgent(where);
    expect(agent.status().state).toBe('restore-running');
    await agent.stop();
    const checkpoint = JSON.parse(readFileSync(join(where.stateDir, CHECKPOINT_FILE), 'utf8')) as Record<string, any>;
    expect(checkpoint).toMatchObject({ format: 'restore-watcher.checkpoint', version: 1 });
    expect(checkpoint.tracker.active.op.id).toBe('restore-20181120T120000Z');

    // A failure message fails the restore as soon as it is told: at the next request line.
    appendFileSync(where.log, `${logger('12:01:00', 'could not download backup: 403 Forbidden', 'ERROR')}\n${access('12:01:01', '/v1/order')}\n`);
    agent = await startDrivenAgent(where, { track: { rules: { failureMessages: ['403 Forbidden'] } } });
    const events = agent.journal.all();
    expect(events.map((e) => [e.id, e.type])).toEqual([
      [1, 'restore.requested'],
      [2, 'restore.progress'],
      [3, 'restore.failed'],
    ]);
    expect(events[2]!.operation).toMatchObject({ id: 'restore-20181120T120000Z', state: 'failed', orderPolls: 1 });
    expect(agent.status().counters.follower.resumes).toBe(1);
  });

  it('after a kill, re-reads from the checkpoint and skips what the journal has', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 3));
    let agent = await startDrivenAgent(where);
    appendFileSync(where.log, numberedLines(4, 6));
    await agent.follower.check(); // journaled, but not checkpointed yet
    await agent.stop({ checkpoint: false });
    agent = await startDrivenAgent(where);
    expect(deliveredBy(agent)).toEqual(upTo(6));
    // Two events a line: each is a refused restore, requested and failed.
    expect(agent.journal.all().map((e) => e.id)).toEqual(upTo(12));
  });

  it('reads the rest from the renamed file when the log was rotated while it was down', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 2));
    let agent = await startDrivenAgent(where);
    await agent.stop();
    appendFileSync(where.log, numberedLines(3, 4));
    renameRotate(where.log);
    appendFileSync(where.log, numberedLines(5, 5));
    agent = await startDrivenAgent(where);
    expect(deliveredBy(agent)).toEqual(upTo(5));
  });

  it.skipIf(!haveTool('logrotate', 'logrotate'))('reads the rest from production.log.1.gz after a copytruncate while it was down', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 2));
    let agent = await startDrivenAgent(where);
    await agent.stop({ checkpoint: false });
    appendFileSync(where.log, numberedLines(3, 4));
    logrotate(where.log, BOSH_DIRECTIVES);
    appendFileSync(where.log, numberedLines(5, 6));
    agent = await startDrivenAgent(where);
    expect(deliveredBy(agent)).toEqual(upTo(6));
    expect(agent.status().counters.follower.bytesRecovered).toBe(Buffer.byteLength(numberedLines(3, 4)));
  });

  it('keeps a stall noticed on the wall clock, which re-reading the log cannot make again', async () => {
    const where = agentDir();
    appendFileSync(where.log, `${access('12:00:00', '/v1/restore')}\n`);
    let now = Date.UTC(2018, 10, 20, 12, 0, 0);
    let agent = await startDrivenAgent(where, { track: { stallAfterSeconds: 60 } }, { now: () => now });
    now += 61_000;
    agent.tick();
    expect(agent.journal.all().map((e) => e.type)).toEqual(['restore.requested', 'restore.stalled']);
    await agent.stop({ checkpoint: false });
    // A crash between the checkpoint and the journal write: the journal lacks the stall.
    const journal = join(where.stateDir, JOURNAL_FILE);
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    writeFileSync(journal, `${lines.slice(0, -1).join('\n')}\n`);

    appendFileSync(where.log, `${access('12:05:00', '/v1/order')}\n`);
    agent = await startDrivenAgent(where, { track: { stallAfterSeconds: 60 } }, { now: () => now });
    expect(agent.journal.all().map((e) => [e.id, e.type])).toEqual([
      [1, 'restore.requested'],
      [2, 'restore.stalled'],
      [3, 'restore.progress'],
    ]);
    expect(agent.status().state).toBe('restore-running');
  });

  it('reads Logger times after a restart at the zone the access lines before the checkpoint gave (timezone auto)', async () => {
    const where = agentDir();
    const lines = readFileSync(new URL('../../fixtures/corpus/timezone-dst-fallback.log', import.meta.url), 'utf8').split('\n');
    const upToOrder = lines.findIndex((l) => l.includes('02:50:15 +0200')) + 1;
    appendFileSync(where.log, `${lines.slice(0, upToOrder).join('\n')}\n`);
    let agent = await startDrivenAgent(where, { log: { timezone: 'auto' } });
    await agent.stop();
    // The next Logger line comes before any access line, and is told at the end of what is
    // written: only the checkpoint knows it is at +0200.
    appendFileSync(where.log, `${lines[upToOrder]!}\n`);
    agent = await startDrivenAgent(where, { log: { timezone: 'auto' } });
    appendFileSync(where.log, lines.slice(upToOrder + 1).join('\n'));
    await agent.follower.check();
    const told = agent.journal.all().filter((e) => e.type === 'restore.progress' && e.message !== '');
    expect(told.map((e) => [e.message, e.time])).toContainEqual(['Downloading backup', '2018-10-28T00:51:00.100Z']);
    expect(agent.journal.all().at(-1)).toMatchObject({ type: 'restore.succeeded', time: '2018-10-28T01:20:00.939Z' });
  });
});
