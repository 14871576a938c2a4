/**
 * The checkpoint at the end of the first read: written once, as the follower
 * settles after it, naming the end of the log with the tracker's state there; and,
 * when a checkpoint rebuilt from the journal ends with the event ids moved on past
 * the journal's, written again with those ids, or a restart would number new
 * events over journaled ones.
 */
import { rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, Checkpointer, type Checkpoint } from '../../src/journal/checkpoint.js';
import { agentDir, startDrivenAgent, type AgentDir } from '../helpers/agent.js';
import { numberedLines, upTo } from '../helpers/lines.js';

/** The checkpoint in the state directory, as a restart reads it. */
function checkpointOf(where: AgentDir): Checkpoint {
  const loaded = new Checkpointer(where.stateDir).load();
  if (loaded.kind !== 'loaded') throw new Error(`no checkpoint to read: ${loaded.kind === 'unusable' ? loaded.reason : 'none'}`);
  return loaded.checkpoint;
}

describe('the checkpoint of a first read', () => {
  it('is written once, at the end of the log, with the ids that follow the last event', async () => {
    const where = agentDir();
    writeFileSync(where.log, numberedLines(1, 5));
    const agent = await startDrivenAgent(where);
    // The first start's checkpoint before any event, then the first read's end: no third, the same again.
    expect(agent.status().counters.persistence.checkpoints).toBe(2);
    expect(checkpointOf(where)).toMatchObject({ position: { offset: statSync(where.log).size }, tracker: { nextEventId: 11 } });
  });

  it('rebuilt from the journal, carries the ids moved on past events whose lines the log no longer holds', async () => {
    const where = agentDir();
    writeFileSync(where.log, numberedLines(1, 3));
    let agent = await startDrivenAgent(where);
    await agent.stop();
    // The log is replaced (a new file): its lines make events 7 to 10 after the first file's 1 to 6.
    rmSync(where.log);
    writeFileSync(where.log, numberedLines(4, 5));
    agent = await startDrivenAgent(where);
    await agent.stop();
    expect(agent.journal.all().map((e) => e.id)).toEqual(upTo(10));
    // Without a checkpoint, the log read from its start makes ids 1 to 4 for what the journal holds as 7 to 10.
    unlinkSync(join(where.stateDir, CHECKPOINT_FILE));
    agent = await startDrivenAgent(where);
    expect(agent.journal.lastId).toBe(10);
    expect(checkpointOf(where).tracker.nextEventId).toBe(11);
  });
});
