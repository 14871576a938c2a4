/**
 * The journal is kept on disk, bounded: the oldest events are dropped and counted,
 * the file is compacted, and after a restart /restores, /events, /status and the
 * stream still tell what happened before it.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOURNAL_FILE } from '../../src/journal/store.js';
import { numberedLines } from '../helpers/lines.js';
import { serviceForTest, type TestService } from '../helpers/service.js';
import { SseReader } from '../helpers/sse.js';
import { tempDir } from '../helpers/temp.js';

let service: TestService | null = null;

const get = async <T>(path: string): Promise<T> => (await (await fetch(`${service!.url}${path}`)).json()) as T;

describe('the persisted journal', () => {
  it('is bounded, compacted, and serves what came before a restart', async () => {
    const dir = tempDir('rw-journal-');
    const options = { dir };
    service = await serviceForTest({ journal: { maxEvents: 100 } }, options);
    // 250 events: each line is a refused restore, requested and failed.
    appendFileSync(service.logPath, numberedLines(1, 125));
    await expect.poll(() => service!.agent.status().lastEventId, { timeout: 10_000 }).toBe(250);
    const before = await get<{ journal: { events: number; firstId: number; dropped: number } }>('/status');
    expect(before.journal.dropped).toBeGreaterThanOrEqual(150);
    expect(before.journal.dropped + before.journal.events).toBe(250);
    // The file holds what the journal keeps plus less than a compaction's slack, not all 250.
    const lines = readFileSync(join(service.stateDir, JOURNAL_FILE), 'utf8').trim().split('\n');
    expect(lines.length - 1).toBeLessThan(before.journal.events + 100);
    await service.close();
    service = null;

    service = await serviceForTest({ journal: { maxEvents: 100 } }, options);
    const after = await get<{ journal: unknown; lastEventId: number }>('/status');
    expect(after.journal).toEqual(before.journal);
    expect(after.lastEventId).toBe(250);
    const restores = await get<{ restores: Array<{ id: string }> }>('/restores');
    expect(restores.restores).toHaveLength(125);
    expect(restores.restores.at(-1)!.id).toBe('restore-20181120T000001Z');
    const events = await get<{ events: Array<{ id: number }> }>(`/events?after=240`);
    expect(events.events.map((e) => e.id)).toEqual([241, 242, 243, 244, 245, 246, 247, 248, 249, 250]);

    const stream = await SseReader.open(`${service.url}/events/stream`, { 'Last-Event-ID': '10' });
    await expect.poll(() => stream.frames.find((f) => f.event === 'missed')?.data).toBeDefined();
    const missed = JSON.parse(stream.frames.find((f) => f.event === 'missed')!.data!) as { missed: number };
    expect(missed.missed).toBe(before.journal.firstId - 1 - 10);
    stream.close();
  });
});
