/**
 * A second service on a state directory another one holds is refused with
 * RW_STATE_LOCKED before it has listened, read or written anything, and that
 * refusal is what it says even when something else of its start failed too (the
 * lock is taken while the server is built). The first one goes on untouched.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberedLines } from '../helpers/lines.js';
import { capturingLogger } from '../helpers/log.js';
import { startError, startTestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';

/** Each file of the state directory with its size and modification time. */
const snapshot = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .map((f) => {
      const { size, mtimeMs } = statSync(join(dir, f));
      return `${f} ${size} ${mtimeMs}`;
    });

describe('a service on a state directory another one holds', () => {
  it('is refused, having touched nothing, and the first one goes on', async () => {
    const dir = tempDir('rw-locked-');
    writeFileSync(join(dir, 'production.log'), numberedLines(1, 3));
    const first = await startTestService({}, { dir });
    try {
      const before = snapshot(first.stateDir);
      const { logger, records } = capturingLogger();
      const err = await startError(startTestService({ log: { path: join(dir, 'other.log') } }, { dir, logger }));
      expect(err.code).toBe('RW_STATE_LOCKED');
      // It neither listened nor loaded the state.
      expect(records.map((r) => r.msg)).toEqual([]);
      expect(snapshot(first.stateDir)).toEqual(before);
      const status = (await (await fetch(`${first.url}/status`)).json()) as { lastEventId: number };
      expect(status.lastEventId).toBe(6);
    } finally {
      await first.dispose();
    }
  });

  it('says the lock is refused when its certificate cannot be used either', async () => {
    const dir = tempDir('rw-locked-');
    const first = await startTestService({}, { dir });
    try {
      writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
      writeFileSync(join(dir, 'key.pem'), 'not a key');
      const err = await startError(
        startTestService({ http: { tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } } }, { dir }),
      );
      expect(err.code).toBe('RW_STATE_LOCKED');
    } finally {
      await first.dispose();
    }
  });
});
