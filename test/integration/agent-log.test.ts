import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { access, logger } from '../helpers/lines.js';
import { capturingLogger } from '../helpers/log.js';
import { serviceForTest } from '../helpers/service.js';

describe("the agent's own log", () => {
  it('records every restore event as a JSON line, so syslog forwarding carries restore progress', async () => {
    const log = capturingLogger();
    // The log's times are in 2018: no stall ticks on the wall clock during the test.
    // An error fails a restore when no success follows within the grace: a second here, not a minute.
    const service = await serviceForTest({ track: { rules: { failureGraceSeconds: 1 } } }, { logger: log.logger });
    writeFileSync(
      service.logPath,
      [
        access('12:00:00', '/v1/restore'),
        access('12:00:01', '/v1/order'),
        logger('12:00:05', 'could not download backup: 403 Forbidden\n  from storage.rb:88', 'ERROR'),
      ].join('\n') + '\n',
    );
    await expect.poll(() => service.agent.status().lastEventId, { timeout: 10_000 }).toBe(4);
    const events = () => log.records.filter((r) => r.event !== undefined);
    await expect.poll(() => events().length).toBe(4);
    expect(events().map((r) => [r.level, r.msg, r.event.id, r.event.state])).toEqual([
      [30, 'restore.requested restore-20181120T120000Z', 1, 'requested'],
      [30, 'restore.progress restore-20181120T120000Z', 2, 'running'],
      [30, 'restore.error restore-20181120T120000Z', 3, 'running'],
      [30, 'restore.failed restore-20181120T120000Z', 4, 'failed'],
    ]);
    expect(events()[3]!.message).toBe('could not download backup: 403 Forbidden\n  from storage.rb:88');
    expect(events()[0]).toMatchObject({ event: { type: 'restore.requested', time: '2018-11-20T12:00:00.000Z' } });
  });
});
