/**
 * Owns what the journal's events say about each operation beyond its summary:
 * the backup id its records named and the phases it went through. It reads the
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
import { findBackupId, forgottenBackups, type ForgottenReport } from './forgotten.js';

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
  /** A backup id in a record's message; its first group is the epoch-millisecond digits. */
  backupIdPattern: RegExp;
  phaseOf?: PhaseOf;
  maxOperations?: number;
}

interface Notes {
  backupId: string | null;
  phases: PhaseStart[];
}

export class AfterRestoreIndex {
  private readonly notes = new Map<string, Notes>();
  private readonly phaseOf: PhaseOf;
  private readonly maxOperations: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly journal: Journal,
    private readonly options: AfterRestoreOptions,
  ) {
    this.phaseOf = options.phaseOf ?? recordedPhase;
    this.maxOperations = options.maxOperations ?? 10_000;
    this.take(journal.all());
    this.unsubscribe = journal.subscribe((events) => this.take(events));
  }

  close(): void {
    this.unsubscribe();
  }

  /** The backup id the operation's records named, if any. */
  backupIdOf(op: Operation): string | null {
    const recorded = (op as { namedBackupId?: unknown }).namedBackupId;
    if (typeof recorded === 'string' && recorded !== '') return recorded;
    return this.notes.get(op.id)?.backupId ?? null;
  }

  phases(op: Operation, now: number): PhaseSpan[] {
    return phaseSpans(op, this.notes.get(op.id)?.phases ?? [], now);
  }

  insight(restore: Operation, now: number): RestoreInsight {
    const phases = this.phases(restore, now);
    if (restore.finishedAt === null) {
      const past = this.journal.operations('restore').map((op) => ({ op, phases: this.phases(op, now) }));
      return { phases, estimate: estimateRemaining(restore, phases, past, now), forgotten: null };
    }
    const forgotten = forgottenBackups(restore, this.journal.allOperations(), (op) => this.backupIdOf(op), this.options.backupIdPattern);
    return { phases, estimate: null, forgotten };
  }

  private take(events: readonly WatchEvent[]): void {
    for (const e of events) {
      let n = this.notes.get(e.operation.id);
      if (n === undefined) {
        n = { backupId: null, phases: [] };
        this.notes.set(e.operation.id, n);
        if (this.notes.size > this.maxOperations) this.notes.delete(this.notes.keys().next().value!);
      }
      n.backupId ??= findBackupId(e.message, this.options.backupIdPattern)?.backupId ?? null;
      notePhaseStarts(n.phases, [e], this.phaseOf);
    }
  }
}
