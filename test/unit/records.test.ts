import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/model.js';
import { RecordAssembler } from '../../src/parse/records.js';
import { access, linesOf, logger } from '../helpers/lines.js';
import { recordsOf } from '../helpers/records.js';

const assemble = (texts: string[]): LogRecord[] => recordsOf(texts);

describe('RecordAssembler', () => {
  it('keeps access and logger lines as single records', () => {
    const r = assemble([access('12:00:00', '/v1/restore'), logger('12:00:01', 'success')]);
    expect(r.map((x) => x.kind)).toEqual(['access', 'logger']);
  });

  it('joins a backtrace to the logger entry before it', () => {
    const r = assemble([
      logger('12:00:01', 'could not download (Aws::S3::Errors::Forbidden)', 'ERROR'),
      "/gems/seahorse/client.rb:15:in `call'",
      "/lib/restore.rb:42:in `download'",
      access('12:00:02', '/v1/order'),
    ]);
    expect(r.map((x) => x.kind)).toEqual(['logger', 'access']);
    const entry = r[0]!;
    if (entry.kind !== 'logger') throw new Error('expected logger');
    expect(entry.message).toBe(
      "could not download (Aws::S3::Errors::Forbidden)\n/gems/seahorse/client.rb:15:in `call'\n/lib/restore.rb:42:in `download'",
    );
    expect(entry.lineCount).toBe(3);
    expect(entry.end).toBe(r[1]!.line.offset);
  });

  it('drops trailing blank lines from a message but counts them', () => {
    const r = assemble([logger('12:00:01', 'multi'), 'line', '', '  ']);
    expect(r).toHaveLength(1);
    expect(r[0]!.kind === 'logger' && r[0]!.message).toBe('multi\nline');
    expect(r[0]!.kind === 'logger' && r[0]!.lineCount).toBe(4);
  });

  it('makes lines before any logger entry unknown, with a reason', () => {
    const r = assemble(['==== booting ====', '', access('12:00:00', '/v1/restore')]);
    expect(r.map((x) => (x.kind === 'unknown' ? x.reason : x.kind))).toEqual(['unmatched', 'blank', 'access']);
  });

  it('reports the pending entry offset so a checkpoint never skips it', () => {
    const a = new RecordAssembler({ timezone: 'UTC' });
    const [l1, l2] = linesOf([access('12:00:00', '/v1/order'), logger('12:00:01', 'x')]);
    a.push(l1!);
    expect(a.pendingOffset).toBeNull();
    a.push(l2!);
    expect(a.pendingOffset).toBe(l2!.offset);
    a.flush();
    expect(a.pendingOffset).toBeNull();
  });

  it('caps a huge message and keeps counting its lines', () => {
    const a = new RecordAssembler({ timezone: 'UTC', maxMessageChars: 100 });
    const lines = linesOf([logger('12:00:01', 'start'), ...Array.from({ length: 1000 }, () => 'y'.repeat(50))]);
    for (const l of lines) a.push(l);
    const [entry] = a.flush();
    expect(entry!.kind === 'logger' && entry!.message.length).toBeLessThanOrEqual(110);
    expect(entry!.kind === 'logger' && entry!.lineCount).toBe(1001);
  });
});
