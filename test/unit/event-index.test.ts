import { describe, expect, it } from 'vitest';
import { EventIndex } from '../../src/journal/event-index.js';

describe('EventIndex', () => {
  it('gives back what it was given: ranges made again on the same file object, other references as they were', () => {
    const index = new EventIndex();
    const segment = { path: 'events.jsonl' };
    const held = { json: '{"id":2}', event: { id: 2 } };
    index.push(1, 'restore.requested', 'r-1', 120, { segment, position: 0, length: 121 });
    index.push(2, 'restore.progress', 'r-1', 8, held);
    index.push(5, 'backup.requested', 'b-1', 7_000_000, { segment, position: 121, length: 7_000_001 });

    expect(index.size).toBe(3);
    expect([0, 1, 2].map((i) => [index.id(i), index.type(i), index.operationId(i), index.bytes(i)])).toEqual([
      [1, 'restore.requested', 'r-1', 120],
      [2, 'restore.progress', 'r-1', 8],
      [5, 'backup.requested', 'b-1', 7_000_000],
    ]);
    expect(index.ref(0)).toEqual({ segment, position: 0, length: 121 });
    expect((index.ref(2) as { segment: object }).segment).toBe(segment);
    expect(index.ref(1)).toBe(held);
  });

  it('finds by id, drops from the front and grows past its first allocation', () => {
    const index = new EventIndex();
    const segment = {};
    // Ids with gaps, as after events were skipped: 3, 6, 9, ...
    for (let n = 1; n <= 5000; n++) index.push(3 * n, 'restore.progress', `r-${n % 7}`, n, { segment, position: 10 * n, length: 10 });
    expect(index.size).toBe(5000);
    expect(index.indexAfter(0)).toBe(0);
    expect(index.indexAfter(3)).toBe(1);
    expect(index.indexAfter(4)).toBe(1);
    expect(index.indexAfter(15_000)).toBe(5000);

    index.dropFirst(1200);
    expect(index.size).toBe(3800);
    expect(index.id(0)).toBe(3 * 1201);
    expect(index.operationId(0)).toBe(`r-${1201 % 7}`);
    expect(index.bytes(0)).toBe(1201);
    expect(index.ref(0)).toEqual({ segment, position: 12_010, length: 10 });
    expect(index.indexAfter(3 * 1201)).toBe(1);
    expect(index.id(index.size - 1)).toBe(15_000);

    index.push(15_003, 'restore.succeeded', 'r-x', 1, { segment, position: 0, length: 1 });
    expect(index.type(index.size - 1)).toBe('restore.succeeded');

    index.dropFirst(index.size);
    expect(index.size).toBe(0);
    expect(index.indexAfter(0)).toBe(0);
  });
});
