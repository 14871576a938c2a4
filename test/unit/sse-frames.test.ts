import { describe, expect, it } from 'vitest';
import { frames, framesBuffer } from '../../src/serve/sse.js';
import { fixtureJournal } from '../helpers/journal.js';

describe('framesBuffer', () => {
  it('encodes the same bytes as the frames written as a string, for text beyond ASCII too', () => {
    const { journal } = fixtureJournal(['backup-then-restore.log']);
    const events = journal.all().map((e, i) => (i % 2 === 0 ? { ...e, message: `wiederhergestellt ✓ 日本 😀 ${e.message}` } : e));
    expect(events.length).toBeGreaterThan(2);
    const json = events.map((e) => JSON.stringify(e));

    const bytes = framesBuffer(events, json);

    expect(bytes.equals(Buffer.from(frames(events)))).toBe(true);
    expect(bytes.toString('utf8')).toContain('😀');
  });
});
