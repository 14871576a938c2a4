/**
 * The hook ledger remembers, in the state directory, up to which event id every
 * hook has been run to its end (succeeded, or given up on after its attempts).
 * Hooks run one event at a time in id order, so one number says it all. It is
 * written atomically and fsynced (temp file, rename, directory fsync) after each
 * event's hooks, so after a crash or kill -9 the hooks of every later terminal
 * event in the journal are run, and those of earlier ones are not run again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../journal/durable-file.js';

export const HOOK_LEDGER_FILE = 'hooks.json';
const FORMAT = 'restore-watcher.hooks';
const VERSION = 1;

export type LedgerLoad =
  | { kind: 'missing' }
  | { kind: 'loaded'; lastEventId: number }
  | { kind: 'unusable'; reason: string };

export class HookLedger {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, HOOK_LEDGER_FILE);
  }

  load(): LedgerLoad {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'unusable', reason: (err as Error).message };
    }
    try {
      const data = JSON.parse(text) as { format?: unknown; version?: unknown; lastEventId?: unknown };
      if (data.format !== FORMAT || data.version !== VERSION) return { kind: 'unusable', reason: 'not a hook ledger of this version' };
      const id = data.lastEventId;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return { kind: 'unusable', reason: 'lastEventId is not an event id' };
      return { kind: 'loaded', lastEventId: id };
    } catch (err) {
      return { kind: 'unusable', reason: `not JSON (${(err as Error).message})` };
    }
  }

  /** Records that the hooks of every event up to `lastEventId` have run. Durable when it returns. */
  record(lastEventId: number): void {
    writeFileAtomic(this.file, `${JSON.stringify({ format: FORMAT, version: VERSION, lastEventId })}\n`);
  }
}
