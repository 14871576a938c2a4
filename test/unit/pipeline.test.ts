import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';

const options = pipelineOptions(defaultConfig());

function runInChunks(bytes: Buffer, size: number): WatchEvent[] {
  const p = new Pipeline(options, 'f.log');
  const events: WatchEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) events.push(...p.push(bytes.subarray(i, i + size)));
  events.push(...p.end());
  return events;
}

describe('Pipeline', () => {
  it.each(['backup-then-restore.log', 'restore-failed-backtrace.log', 'garbage-between.log'])(
    'gives the same events for %s however the bytes are chunked',
    (name) => {
      const bytes = readFileSync(new URL(`../../fixtures/${name}`, import.meta.url));
      const whole = runInChunks(bytes, bytes.length);
      expect(whole.length).toBeGreaterThan(0);
      for (const size of [1, 2, 3, 7, 64, 1000]) expect(runInChunks(bytes, size)).toEqual(whole);
    },
  );

  it('reports a resume position at the start of an unfinished line', () => {
    const p = new Pipeline(options, 'f.log');
    p.push(Buffer.from('x\nhalf a li'));
    expect(p.position).toEqual({ file: 'f.log', offset: 2 });
  });
});
