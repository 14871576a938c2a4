/**
 * Owns the answer to "which backups does the Backup Manager no longer know
 * after this restore?". An a9s-pg restore rolls the Backup Manager's own database
 * back to the restored backup's point in time, so every backup made after that
 * point is gone from its records, though the backups themselves are still in the
 * backup store. The agent's journal is the only witness left: it holds every
 * backup and restore the log showed.
 *
 * Pure: the operations and the backup id pattern are arguments. The backup id
 * a record of an operation named is the tracker's (`Operation.namedBackupId`).
 *
 * How the restored point is found:
 * - `named`: a record of the restore names a backup id (`a9s-pg-1542859215559`).
 *   Its digits are the backup's creation time in epoch milliseconds, so every
 *   backup created after it is forgotten: a backup whose own id is known is
 *   compared by that id's time; one without by the second it was requested in
 *   (the access line has whole seconds; the backup-agent runs one job at a time,
 *   so a backup requested in the same second as the restored one was created is
 *   that backup itself).
 * - `unidentified`: no record of the restore names a backup id. The restored
 *   backup cannot be told, so the candidates are listed: every backup that
 *   succeeded after the previous restore (or the start of the journal) and before
 *   this restore was requested. If the newest of them was restored, nothing is
 *   forgotten; if an older one, each candidate newer than it is.
 */
import type { Operation } from '../model.js';

/** One backup the Backup Manager may no longer know. */
export interface ForgottenBackup {
  /** The agent's operation id of the backup. */
  operationId: string;
  /** The a9s backup id, when a record of the backup named one. */
  backupId?: string;
  requestedAt: string;
  finishedAt: string | null;
  state: Operation['state'];
}

export type ForgottenBasis = 'named' | 'unidentified';

export interface ForgottenReport {
  /** The restore this is about. */
  restoreId: string;
  basis: ForgottenBasis;
  /** The backup id the restore named (basis `named`), else null. */
  restoredBackupId: string | null;
  /** When the restored backup was created (from its id), else null. */
  restoredPointAt: string | null;
  /** Backups made after the restored point (named), or the candidates (unidentified); oldest first. */
  forgottenBackups: ForgottenBackup[];
  /** How it was decided, in a sentence an operator can act on. */
  decision: string;
}

/** The backup id in `text`, with its creation time, or null. `pattern`'s first group must be the epoch-millisecond digits. */
export function findBackupId(text: string, pattern: RegExp): { backupId: string; createdMs: number } | null {
  const m = pattern.exec(text);
  if (m === null) return null;
  const digits = m[1] ?? /(\d{13})/.exec(m[0])?.[1];
  const createdMs = digits === undefined ? NaN : Number(digits);
  return Number.isSafeInteger(createdMs) ? { backupId: m[0], createdMs } : null;
}

/**
 * The report for `restore`, from every operation in the journal (any order);
 * `pattern` (the config's `track.rules.backupIdPattern`) reads a backup id's
 * creation time from its first group.
 */
export function forgottenBackups(restore: Operation, operations: readonly Operation[], pattern: RegExp): ForgottenReport {
  const byTime = [...operations].sort((a, b) => Date.parse(a.requestedAt) - Date.parse(b.requestedAt));
  const requestedMs = Date.parse(restore.requestedAt);
  const restoreEndMs = restore.finishedAt !== null ? Date.parse(restore.finishedAt) : Number.POSITIVE_INFINITY;
  // Backups that could have reached the Backup Manager's database before it was rolled back.
  const before = byTime.filter(
    (op) => op.kind === 'backup' && op.id !== restore.id && Date.parse(op.requestedAt) <= Math.min(requestedMs, restoreEndMs),
  );
  const named = nameOf(restore, pattern);
  if (named !== null) {
    const pointSecond = Math.floor(named.createdMs / 1000);
    const after = before.filter((op) => {
      const own = nameOf(op, pattern);
      if (own !== null) return own.createdMs > named.createdMs;
      return Math.floor(Date.parse(op.requestedAt) / 1000) > pointSecond;
    });
    const list = after.map((op) => entry(op, pattern));
    const at = new Date(named.createdMs).toISOString();
    return {
      restoreId: restore.id,
      basis: 'named',
      restoredBackupId: named.backupId,
      restoredPointAt: at,
      forgottenBackups: list,
      decision:
        (restore.state === 'succeeded'
          ? `${restore.id} restored ${named.backupId} (created ${at}); `
          : `${restore.id} failed while restoring ${named.backupId} (created ${at}); if the database was left at that point, `) +
        (list.length === 0
          ? 'no backup the agent saw was made after it'
          : `the ${plural(list.length, 'backup')} made after it ${list.length === 1 ? 'is' : 'are'} no longer known to the Backup Manager`),
    };
  }
  const previousRestore = byTime
    .filter((op) => op.kind === 'restore' && op.id !== restore.id && Date.parse(op.requestedAt) < requestedMs)
    .at(-1);
  const since = previousRestore !== undefined ? Date.parse(previousRestore.finishedAt ?? previousRestore.requestedAt) : -Infinity;
  const candidates = before.filter((op) => op.state === 'succeeded' && Date.parse(op.requestedAt) >= since);
  const list = candidates.map((op) => entry(op, pattern));
  const newest = list.at(-1);
  const where = previousRestore !== undefined ? `since ${previousRestore.id}` : 'in the journal';
  return {
    restoreId: restore.id,
    basis: 'unidentified',
    restoredBackupId: null,
    restoredPointAt: null,
    forgottenBackups: list,
    decision:
      newest === undefined
        ? `the restored backup could not be identified (no record of ${restore.id} names a backup id), and no backup succeeded ${where} before it was requested`
        : `the restored backup could not be identified (no record of ${restore.id} names a backup id); ${plural(list.length, 'backup')} succeeded ${where} before it was requested: if the newest (${newest.backupId ?? newest.operationId}) was restored, none is forgotten, otherwise every one newer than the restored backup is no longer known to the Backup Manager`,
  };
}

function nameOf(op: Operation, pattern: RegExp): { backupId: string; createdMs: number } | null {
  const id = op.namedBackupId ?? null;
  return id === null ? null : findBackupId(id, pattern);
}

function entry(op: Operation, pattern: RegExp): ForgottenBackup {
  const named = nameOf(op, pattern);
  return {
    operationId: op.id,
    ...(named !== null ? { backupId: named.backupId } : {}),
    requestedAt: op.requestedAt,
    finishedAt: op.finishedAt,
    state: op.state,
  };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The report as lines for a terminal or a log: the decision, then one line per backup. */
export function forgottenLines(report: ForgottenReport): string[] {
  const head = report.basis === 'named' ? 'forgotten by the Backup Manager' : 'backups the restored one may have been older than';
  const lines = [report.decision];
  if (report.forgottenBackups.length > 0) lines.push(`${head}:`);
  for (const b of report.forgottenBackups) {
    const finished = b.finishedAt !== null ? `, finished ${b.finishedAt.slice(0, 19).replace('T', ' ')}Z` : '';
    lines.push(`  ${(b.backupId ?? b.operationId).padEnd(24)} ${b.state.padEnd(10)} requested ${b.requestedAt.slice(0, 19).replace('T', ' ')}Z${finished}`);
  }
  return lines;
}

