/**
 * Owns what the journal's events say about each operation beyond its summary:
 * the phases it went through, and when each began. It reads the
 * journal once and then follows it, so answering "what did this restore forget,
 * where is it, how long has it left" costs no scan of the events. Bounded like
 * the journal's own operation summaries: one small entry per operation.
 */
import type { Journal } from '../journal/journal.js';
import type { Operation, WatchEvent } from '../model.js';
import {
  estimateRemaining,
  notePhaseStarts,
  phaseSpans,
  recordedPhase,
  type Estimate,
  type PhaseOf,
  type PhaseSpan,
  type PhaseStart,
} from './estimate.js';
import { forgottenBackups, type ForgottenReport } from './forgotten.js';

/** What the agent says about one restore beyond its summary. */
export interface RestoreInsight {
  /** The phases so far, each with its time. Empty when the rules name no phases. */
  phases: PhaseSpan[];
  /** Time left, from earlier restores; null without a basis (or once it ended). */
  estimate: Estimate | null;
  /** Which backups the Backup Manager no longer knows; null while the restore is active. */
  forgotten: ForgottenReport | null;
}

export interface AfterRestoreOptions {
  /** The config's `track.rules.backupIdPattern`: its first group is a backup id's epoch-millisecond digits. */
  backupIdPattern: RegExp;
  phaseOf?: PhaseOf;
  maxOperations?: number;
}



export class AfterRestoreIndex {
  /** Where each operation's phases began. */
  private readonly phaseStarts = new Map<string, PhaseStart[]>();
  private readonly phaseOf: PhaseOf;
  private readonly maxOperations: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly journal: Journal,
    private readonly options: AfterRestoreOptions,
  ) {
    this.phaseOf = options.phaseOf ?? recordedPhase;
    this.maxOperations = options.maxOperations ?? 10_000;
    // A page at a time: the journal's bodies are on disk, and a long journal must not be in memory at once.
    for (let after = 0, page = journal.since(0, 1000); page.length > 0; after = page.at(-1)!.id, page = journal.since(after, 1000)) {
      this.take(page);
    }
    this.unsubscribe = journal.subscribe((events) => this.take(events));
  }

  close(): void {
    this.unsubscribe();
  }

  phases(op: Operation, now: number): PhaseSpan[] {
    return phaseSpans(op, this.phaseStarts.get(op.id) ?? [], now);
  }

  insight(restore: Operation, now: number): RestoreInsight {
    const phases = this.phases(restore, now);
    if (restore.finishedAt === null) {
      const past = this.journal.operations('restore').map((op) => ({ op, phases: this.phases(op, now) }));
      return { phases, estimate: estimateRemaining(restore, phases, past, now), forgotten: null };
    }
    const forgotten = forgottenBackups(restore, this.journal.allOperations(), this.options.backupIdPattern);
    return { phases, estimate: null, forgotten };
  }

  private take(events: readonly WatchEvent[]): void {
    for (const e of events) {
      const id = e.operation.id;
      let starts = this.phaseStarts.get(id);
      if (starts === undefined) {
        starts = [];
        this.phaseStarts.set(id, starts);
        if (this.phaseStarts.size > this.maxOperations) {
          const oldest = this.phaseStarts.keys().next().value!;
          this.phaseStarts.delete(oldest);
        }
      }
      notePhaseStarts(starts, [e], this.phaseOf);
    }
  }
}
