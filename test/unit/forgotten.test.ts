import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/model.js';
import { DEFAULT_CONFIG } from '../../src/defaults.js';
import { findBackupId, forgottenBackups } from '../../src/report/forgotten.js';
import { operation } from '../helpers/operation.js';

const pattern = new RegExp(DEFAULT_CONFIG.track.rules.backupIdPattern);

const op = (kind: Operation['kind'], id: string, requestedAt: string, finishedAt: string, state: Operation['state'] = 'succeeded'): Operation =>
  operation(kind, id, requestedAt, finishedAt, state);

/** The operations with the backup ids their records named. */
function naming(ops: Operation[], names: Record<string, string>): Operation[] {
  return ops.map((o) => ({ ...o, namedBackupId: names[o.id] ?? null }));
}

// a9s-pg-1542859215559 was created at 2018-11-22T04:00:15.559Z.
const b1 = op('backup', 'backup-20181122T040015Z', '2018-11-22T04:00:15.000Z', '2018-11-22T04:01:28.000Z');
const b2 = op('backup', 'backup-20181122T050000Z', '2018-11-22T05:00:00.000Z', '2018-11-22T05:01:00.000Z');
const b3 = op('backup', 'backup-20181122T060000Z', '2018-11-22T06:00:00.000Z', '2018-11-22T06:00:30.000Z', 'failed');
const restore = op('restore', 'restore-20181122T093000Z', '2018-11-22T09:30:00.000Z', '2018-11-22T09:32:30.000Z');
const later = op('backup', 'backup-20181122T100000Z', '2018-11-22T10:00:00.000Z', '2018-11-22T10:01:00.000Z');

describe('findBackupId', () => {
  it.each([
    ['downloading backup a9s-pg-1542859215559', 'a9s-pg-1542859215559', 1542859215559],
    ['restore of a9s-pg-1542859215559 done', 'a9s-pg-1542859215559', 1542859215559],
    ['superseded by restore-20181120T121230Z', null, null],
    ['pid 1542859215559', null, null],
    ['a9s-pg-154285921555 (12 digits)', null, null],
  ])('%s', (text, id, ms) => {
    const found = findBackupId(text, pattern);
    expect(found?.backupId ?? null).toBe(id);
    expect(found?.createdMs ?? null).toBe(ms);
  });
});

describe('forgottenBackups', () => {
  it('lists the backups made after the named backup, and not the named one, nor those after the restore', () => {
    const ops = naming([later, restore, b3, b2, b1], { [restore.id]: 'a9s-pg-1542859215559' });
    const r = forgottenBackups(ops[1]!, ops, pattern);
    expect(r.basis).toBe('named');
    expect(r.restoredBackupId).toBe('a9s-pg-1542859215559');
    expect(r.restoredPointAt).toBe('2018-11-22T04:00:15.559Z');
    expect(r.forgottenBackups.map((b) => [b.operationId, b.state])).toEqual([
      [b2.id, 'succeeded'],
      [b3.id, 'failed'],
    ]);
    expect(r.decision).toContain('2 backups made after it are no longer known');
  });

  it('compares by the backups’ own ids when they are known, whatever second they were requested in', () => {
    // b2's own id says it was created a millisecond before the restored one: it is older.
    const ops = naming([b1, b2, b3, restore], {
      [restore.id]: 'a9s-pg-1542862800000',
      [b2.id]: 'a9s-pg-1542862799999',
      [b3.id]: 'a9s-pg-1542866400000',
    });
    const r = forgottenBackups(ops[3]!, ops, pattern);
    expect(r.forgottenBackups).toEqual([
      { operationId: b3.id, backupId: 'a9s-pg-1542866400000', requestedAt: b3.requestedAt, finishedAt: b3.finishedAt, state: 'failed' },
    ]);
  });

  it('hedges for a restore that failed: the database may not have been rolled back', () => {
    const failed = { ...restore, state: 'failed' as const, namedBackupId: 'a9s-pg-1542859215559' };
    const r = forgottenBackups(failed, [b1, b2, failed], pattern);
    expect(r.forgottenBackups.map((b) => b.operationId)).toEqual([b2.id]);
    expect(r.decision).toBe(
      `${restore.id} failed while restoring a9s-pg-1542859215559 (created 2018-11-22T04:00:15.559Z); if the database was left at that point, the 1 backup made after it is no longer known to the Backup Manager`,
    );
  });

  it('says so when nothing was made after the restored backup', () => {
    const ops = naming([b1, restore], { [restore.id]: 'a9s-pg-1542859215559' });
    const r = forgottenBackups(ops[1]!, ops, pattern);
    expect(r.forgottenBackups).toEqual([]);
    expect(r.decision).toContain('no backup the agent saw was made after it');
  });

  it('without a named backup, lists the successful backups since the previous restore as candidates', () => {
    const first = op('restore', 'restore-20181122T045000Z', '2018-11-22T04:50:00.000Z', '2018-11-22T04:55:00.000Z');
    const r = forgottenBackups(restore, [b1, first, b2, b3, restore, later], pattern);
    expect(r.basis).toBe('unidentified');
    expect(r.restoredBackupId).toBeNull();
    expect(r.forgottenBackups.map((b) => b.operationId)).toEqual([b2.id]);
    expect(r.decision).toContain('could not be identified');
    expect(r.decision).toContain(`since ${first.id}`);
  });

  it('without a named backup and no earlier restore, every successful backup before it is a candidate', () => {
    const r = forgottenBackups(restore, [b1, b2, b3, restore], pattern);
    expect(r.forgottenBackups.map((b) => b.operationId)).toEqual([b1.id, b2.id]);
    expect(r.decision).toContain(`if the newest (${b2.id}) was restored, none is forgotten`);
  });
});
