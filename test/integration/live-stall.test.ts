import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config.js';
import { access } from '../helpers/lines.js';

let agent: Agent | null = null;
afterEach(async () => agent?.stop());

describe('a live restore that goes quiet', () => {
  it('is stalled after stallAfter on the log clock, however far the log is from our clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-stall-'));
    const path = join(dir, 'production.log');
    // 2018 lines read in 2026: the wall clock alone would call this restore stalled at once.
    writeFileSync(path, `${access('12:00:00', '/v1/restore')}\n${access('12:00:10', '/v1/order')}\n`);
    let wall = Date.UTC(2026, 10, 26, 9, 0, 0);
    const config = parseConfig({ log: { path }, track: { stallAfterSeconds: 60 }, stateDir: join(dir, 'state') });
    agent = new Agent({ config, logger: pino({ level: 'silent' }), now: () => wall, watch: false });
    await agent.start();
    agent.tick();
    expect(agent.status().state).toBe('restore-running');

    wall += 59_000;
    agent.tick();
    expect(agent.status().state).toBe('restore-running');

    wall += 1_000;
    agent.tick();
    expect(agent.status().state).toBe('restore-stalled');
    const stalled = agent.journal.since(0).at(-1)!;
    expect(stalled).toMatchObject({ type: 'restore.stalled', time: '2018-11-20T12:01:10.000Z' });
  });
});
