/**
 * Truncation by hand (`: > production.log`), deletion and re-creation, and a log
 * missing for a while: the live agent carries on, and says what happened in its
 * log and its counters.
 */
import { appendFileSync, truncateSync, unlinkSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lineOfRestore, numberedLines, upTo } from '../helpers/lines.js';
import { serviceForTest, type TestService } from '../helpers/service.js';

let service: TestService;

/** A pino logger whose lines the test can read. */
function capturedLogger(): { logger: pino.Logger; messages: () => string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), messages: () => lines };
}

const delivered = (): number[] =>
  service.agent.journal.all().flatMap((e) => (e.type === 'restore.failed' ? [lineOfRestore(e.operation.id)] : []));

describe('the log emptied, deleted, missing', () => {
  it('starts again at 0 after `: > production.log`, and says so', async () => {
    const log = capturedLogger();
    service = await serviceForTest({}, { logger: log.logger });
    appendFileSync(service.logPath, numberedLines(1, 3));
    await expect.poll(delivered).toEqual(upTo(3));
    truncateSync(service.logPath, 0);
    await expect.poll(() => service.agent.status().counters.follower.truncations).toBe(1);
    appendFileSync(service.logPath, numberedLines(4, 5));
    await expect.poll(delivered).toEqual(upTo(5));
    expect(log.messages()).toContain('log file truncated and no rotated copy holds what followed; reading it again from the start');
  });

  it('follows a deleted log to its re-creation, however long it is missing', async () => {
    const log = capturedLogger();
    service = await serviceForTest({ log: { rotationGraceMs: 100 } }, { logger: log.logger });
    appendFileSync(service.logPath, numberedLines(1, 2));
    await expect.poll(delivered).toEqual(upTo(2));
    unlinkSync(service.logPath);
    await expect.poll(() => service.agent.status().counters.follower.missing).toBe(1);
    // The grace period passes with nothing at the path: the agent waits for the log.
    await expect.poll(() => service.agent.status().state, { timeout: 5000 }).toBe('waiting-for-log');
    appendFileSync(service.logPath, numberedLines(3, 4));
    await expect.poll(delivered).toEqual(upTo(4));
    expect(service.agent.status().counters.follower.reopens).toBe(1);
    expect(log.messages()).toContain('log file disappeared; waiting for it to be re-created');
  });
});
