import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHAPE, generateLines, writeLog, type LogShape } from '../../bench/generate.js';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';

const shape: LogShape = { ...DEFAULT_SHAPE, lines: 100_000 };

describe('the benchmark log generator', () => {
  it('writes the same lines for the same seed, other lines for another', () => {
    const first = [...generateLines({ ...shape, lines: 2000 })];
    expect([...generateLines({ ...shape, lines: 2000 })]).toEqual(first);
    expect([...generateLines({ ...shape, lines: 2000, seed: 7 })]).not.toEqual(first);
  });

  it('writes lines the agent recognises, with a restore every restoreEvery lines', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rw-generate-')), 'production.log');
    const story = writeLog(file, shape);
    const bytes = readFileSync(file);
    expect(story).toMatchObject({ lines: 100_000, bytes: bytes.length, restores: 5 });
    expect(story.failed).toBeGreaterThan(0);

    const pipeline = new Pipeline(pipelineOptions(defaultConfig()), file);
    const events: WatchEvent[] = [...pipeline.push(bytes), ...pipeline.end()];
    expect(pipeline.counters.lines).toBe(100_000);
    expect(pipeline.counters.records.unknown).toBe(0);
    const count = (type: string): number => events.filter((e) => e.type === type).length;
    expect(count('restore.requested')).toBe(story.restores);
    expect(count('restore.succeeded')).toBe(story.succeeded);
    expect(count('restore.failed')).toBe(story.failed);
    expect(events.find((e) => e.type === 'restore.failed')?.message.split('\n')).toHaveLength(9);
  });
});
