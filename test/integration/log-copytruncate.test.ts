/**
 * BOSH rotates job logs with copytruncate and compresses at once: the copy is
 * `production.log.1.gz` by the time the agent looks. Lines written after the agent's
 * last read and before logrotate's copy must be read from that copy.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentDir, deliveredBy, startDrivenAgent } from '../helpers/agent.js';
import { numberedLines, upTo } from '../helpers/lines.js';
import { BOSH_DIRECTIVES, logrotate } from '../helpers/rotate.js';
import { haveTool } from '../helpers/tools.js';

describe.skipIf(!haveTool('logrotate', 'logrotate'))('copytruncate, compressed at once (BOSH)', () => {
  it('reads the unread rest from production.log.1.gz, then the emptied file from 0', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 5));
    const agent = await startDrivenAgent(where);
    expect(deliveredBy(agent)).toEqual(upTo(5));

    appendFileSync(where.log, numberedLines(6, 9)); // not read yet
    logrotate(where.log, BOSH_DIRECTIVES);
    expect(existsSync(`${where.log}.1.gz`)).toBe(true);
    appendFileSync(where.log, numberedLines(10, 11));
    await agent.follower.check();

    expect(deliveredBy(agent)).toEqual(upTo(11));
    const counters = agent.status().counters.follower;
    expect(counters.truncations).toBe(1);
    expect(counters.copiesRead).toBe(1);
    expect(counters.bytesRecovered).toBe(Buffer.byteLength(numberedLines(6, 9)));
  });

  it('notices a truncation even when the file grew past the old offset again between two checks', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 3));
    const agent = await startDrivenAgent(where);
    appendFileSync(where.log, numberedLines(4, 6));
    logrotate(where.log, BOSH_DIRECTIVES);
    // Refilled well past where the agent had read: only the bytes before its offset tell.
    appendFileSync(where.log, numberedLines(7, 20));
    await agent.follower.check();

    expect(deliveredBy(agent)).toEqual(upTo(20));
    expect(agent.status().counters.follower.truncations).toBe(1);
  });

  it('follows several rotations in a row, each copy read once, in order', async () => {
    const where = agentDir();
    const agent = await startDrivenAgent(where);
    let n = 0;
    for (let round = 0; round < 3; round++) {
      appendFileSync(where.log, numberedLines(n + 1, n + 4));
      n += 4;
      await agent.follower.check();
      appendFileSync(where.log, numberedLines(n + 1, n + 2));
      n += 2;
      logrotate(where.log, BOSH_DIRECTIVES);
    }
    await agent.follower.check();
    expect(deliveredBy(agent)).toEqual(upTo(n));
    expect(agent.status().counters.follower.truncations).toBe(3);
  });
});
