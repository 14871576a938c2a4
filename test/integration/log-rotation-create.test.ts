/**
 * Rename rotation (logrotate `create`, Ruby's Logger): the log is renamed to
 * `production.log.1` and a new one created; the writer keeps appending to the
 * renamed file until it reopens. The old file is read to its end first.
 */
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentDir, deliveredBy, startDrivenAgent } from '../helpers/agent.js';
import { numberedLines, upTo } from '../helpers/lines.js';
import { logrotate, ROTATE } from '../helpers/rotate.js';
import { haveTool } from '../helpers/tools.js';

const CREATE = ['missingok', `rotate ${ROTATE}`, 'create', 'size=1'];

let clock = 1_000_000;

describe.skipIf(!haveTool('logrotate', 'logrotate'))('rename rotation (create mode)', () => {
  it('keeps reading the renamed file while its writer still appends, then the new one from 0', async () => {
    const where = agentDir();
    let fd = openSync(where.log, 'a');
    writeSync(fd, numberedLines(1, 3));
    const agent = await startDrivenAgent(where, { log: { rotationGraceMs: 5000 } }, { now: () => clock });

    logrotate(where.log, CREATE);
    await agent.follower.check();
    writeSync(fd, numberedLines(4, 5)); // the writer has not reopened yet
    clock += 1000; // within the grace period
    await agent.follower.check();
    expect(deliveredBy(agent)).toEqual(upTo(5));
    expect(agent.status().follower.path).toBe(where.log);

    closeSync(fd);
    fd = openSync(where.log, 'a');
    writeSync(fd, numberedLines(6, 7));
    await agent.follower.check();
    closeSync(fd);
    expect(deliveredBy(agent)).toEqual(upTo(7));
    expect(agent.status().counters.follower).toMatchObject({ rotations: 1, reopens: 1 });
  });

  it('gives up on the renamed file when the grace period ends with the new one still empty', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 2));
    const agent = await startDrivenAgent(where, { log: { rotationGraceMs: 5000 } }, { now: () => clock });
    logrotate(where.log, CREATE);
    await agent.follower.check();
    expect(agent.status().follower.identity).not.toBeNull();
    clock += 5001;
    await agent.follower.check();
    appendFileSync(where.log, numberedLines(3, 3));
    await agent.follower.check();
    expect(deliveredBy(agent)).toEqual(upTo(3));
  });

  it('reads every file of rotations in quick succession, in order, even those it never saw at the path', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 2));
    const agent = await startDrivenAgent(where, { log: { rotationGraceMs: 5000 } }, { now: () => clock });
    let n = 2;
    for (let i = 0; i < 3; i++) {
      appendFileSync(where.log, numberedLines(n + 1, n + 2));
      n += 2;
      logrotate(where.log, CREATE);
    }
    appendFileSync(where.log, numberedLines(n + 1, n + 1));
    n += 1;
    await agent.follower.check();
    await agent.follower.check();
    expect(deliveredBy(agent)).toEqual(upTo(n));
  });
});
