/**
 * The log path is a directory: the agent says `log-unreadable` with the reason,
 * logs it once however often it looks, and follows the file once one replaces it.
 */
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { agentDir, startDrivenAgent } from '../helpers/agent.js';
import { access } from '../helpers/lines.js';
import { capturingLogger } from '../helpers/log.js';

let agent: Agent | null = null;
let dir: string | null = null;

afterEach(async () => {
  await agent?.stop();
  agent = null;
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('a log path that is a directory', () => {
  it('gives state log-unreadable with the reason, one log line per change', async () => {
    const where = agentDir();
    dir = where.dir;
    mkdirSync(where.log);
    const { logger, records } = capturingLogger();
    agent = await startDrivenAgent(where, {}, { logger });
    for (let i = 0; i < 5; i++) await agent.follower.check();

    const status = agent.status();
    expect(status.state).toBe('log-unreadable');
    expect(status.follower).toMatchObject({ exists: false, readable: false, error: `EISDIR: ${where.log} is a directory` });
    expect(status.counters.follower).toMatchObject({ unreadable: 6, errors: 0 });
    const told = records.filter((r) => r.msg.startsWith('log file cannot be read'));
    expect(told).toEqual([expect.objectContaining({ level: 50, path: where.log, reason: `EISDIR: ${where.log} is a directory` })]);

    rmdirSync(where.log);
    writeFileSync(where.log, `${access('12:00:00', '/v1/restore')}\n`);
    await agent.follower.check();
    expect(agent.status().state).toBe('restore-requested');
    expect(agent.status().follower).toMatchObject({ exists: true, readable: true, error: null });
    expect(records.filter((r) => r.msg.startsWith('log file cannot be read'))).toHaveLength(1);
  });
});
