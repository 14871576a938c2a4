import { describe, expect, it } from 'vitest';
import { logEvent, logNotice } from '../../src/agent/notices.js';
import { ProgressLogThrottle } from '../../src/log-output.js';
import type { FollowerNotice } from '../../src/tail/follower.js';
import { fixtureJournal } from '../helpers/journal.js';

const identity = { dev: 1, ino: 2 };
const path = '/var/log/p.log';
const every: FollowerNotice[] = [
  { kind: 'waiting', path },
  { kind: 'opened', path, identity, offset: 0 },
  { kind: 'rotated', path, from: identity, to: { dev: 1, ino: 3 }, between: 0 },
  { kind: 'truncated', path, at: 10, size: 0, recoveredFrom: `${path}.1`, bytesRecovered: 5 },
  { kind: 'truncated', path, at: 10, size: 0, recoveredFrom: null, bytesRecovered: 0 },
  { kind: 'missing', path },
  { kind: 'copy-read', path, from: `${path}.1`, offset: 0, bytes: 9 },
  { kind: 'resumed', path, offset: 7, from: 'inode' },
  { kind: 'resume-lost', path, offset: 7 },
  { kind: 'error', path, message: 'EIO' },
];

function recorder(): { lines: { level: string; fields: unknown; msg: string }[]; logger: Parameters<typeof logNotice>[0] & Parameters<typeof logEvent>[0] } {
  const lines: { level: string; fields: unknown; msg: string }[] = [];
  const at = (level: string) => (fields: unknown, msg: string) => void lines.push({ level, fields, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as never };
}

describe('logEvent', () => {
  it('writes one info line per event, naming it, with a long message cut', () => {
    const { lines, logger } = recorder();
    const e = fixtureJournal(['backup-then-restore.log']).journal.all()[0]!;
    logEvent(logger, { ...e, message: 'x'.repeat(5000) }, new ProgressLogThrottle(), 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: `${e.type} ${e.operation.id}`, fields: { event: { id: e.id } } });
    expect((lines[0]!.fields as { message: string }).message).toHaveLength(2001);
  });
});

describe('logNotice', () => {
  it('writes one line per notice, with the path, at a level that says how bad it is', () => {
    const { lines, logger } = recorder();
    for (const n of every) logNotice(logger, n);
    expect(lines).toHaveLength(every.length);
    for (const l of lines) expect(l.fields).toMatchObject({ path });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info', 'info', 'info', 'warn', 'warn', 'info', 'info', 'warn', 'error']);
    expect(new Set(lines.map((l) => l.msg)).size).toBe(every.length);
  });

  it('says where a truncated file was recovered from', () => {
    const { lines, logger } = recorder();
    logNotice(logger, every[3]!);
    expect(lines[0]!.fields).toMatchObject({ recoveredFrom: `${path}.1`, bytesRecovered: 5 });
    expect(lines[0]!.msg).toMatch(/copytruncate/);
  });
});
