/**
 * A line longer than log.maxLineBytes is cut, flagged and counted, and the agent's
 * memory does not grow with it: a 48 MiB line goes through a live agent while its
 * heap and buffers stay far below that.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { access } from '../helpers/lines.js';
import { serviceForTest } from '../helpers/service.js';

// What the agent keeps, not what it has yet to collect: measured after a full GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const retained = (): number => {
  // Twice: buffers freed by the first collection are released by the second.
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('an over-long line in the live log', () => {
  it('is cut and counted, memory stays bounded, and the next line is read normally', async () => {
    const service = await serviceForTest();
    writeFileSync(service.logPath, '');
    await expect.poll(() => service.agent.status().follower.exists).toBe(true);
    const baseline = retained();
    let peak = 0;
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 48; i++) {
      appendFileSync(service.logPath, chunk);
      // The agent reads as the line grows; the line itself never fits in its memory bound.
      await expect.poll(() => service.agent.status().follower.offset, { timeout: 10_000 }).toBe((i + 1) * chunk.length);
      peak = Math.max(peak, retained() - baseline);
    }
    appendFileSync(service.logPath, `\n${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(() => service.agent.status().state).toBe('restore-requested');
    const counters = service.agent.status().counters.pipeline;
    expect(counters.cutLines).toBe(1);
    expect(counters.unknown.cut).toBe(1);
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });
});
