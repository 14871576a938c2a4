/**
 * Where replay's time goes: the first stages of the pipeline run once over a file
 * already in memory, cut into the chunks replay reads, in a fresh process (so the
 * code starts cold, as in replay) and timed in CPU time. Prints the milliseconds.
 *
 *   node dist-bench/bench/baseline/stages.js ROOT FILE STAGE
 *   STAGE: split | split+parse | split+parse+track
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Line {
  text: string;
}
interface Modules {
  splitChunk(state: unknown, chunk: Buffer, file: string, max: number): { state: unknown; lines: Line[] };
  initialSplitState(): unknown;
  RecordAssembler: new (o: { timezone: string }) => { push(line: Line): unknown[]; flush(): unknown[] };
  Pipeline: new (options: unknown, file: string) => { push(chunk: Buffer): unknown[]; end(): unknown[] };
  pipelineOptions(config: unknown): unknown;
  defaultConfig(): unknown;
}

const [root, file, stage] = process.argv.slice(2);
if (root === undefined || file === undefined || stage === undefined) {
  process.stderr.write('usage: stages ROOT FILE split|split+parse|split+parse+track\n');
  process.exit(64);
}
const load = async (path: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(join(root, 'dist', path)).href)) as Record<string, unknown>;
const m = {
  ...(await load('split/splitter.js')),
  ...(await load('parse/records.js')),
  ...(await load('pipeline.js')),
  ...(await load('defaults.js')),
} as unknown as Modules;

const bytes = readFileSync(file);
// The first pass over freshly read memory pays for page faults; replay reads into reused buffers and does not.
bytes.indexOf(0);
// Configuration is start-up work, not the pipeline's: done before the clock starts.
const options = m.pipelineOptions(m.defaultConfig());
const CHUNK = 64 * 1024;
const MAX_LINE = 64 * 1024;

function eachChunk(f: (chunk: Buffer) => void): void {
  for (let at = 0; at < bytes.length; at += CHUNK) f(bytes.subarray(at, at + CHUNK));
}

const stages: Record<string, () => number> = {
  split: () => {
    let state = m.initialSplitState();
    let n = 0;
    eachChunk((chunk) => {
      const r = m.splitChunk(state, chunk, file, MAX_LINE);
      state = r.state;
      n += r.lines.length;
    });
    return n;
  },
  'split+parse': () => {
    let state = m.initialSplitState();
    const assembler = new m.RecordAssembler({ timezone: 'UTC' });
    let n = 0;
    eachChunk((chunk) => {
      const r = m.splitChunk(state, chunk, file, MAX_LINE);
      state = r.state;
      for (const line of r.lines) n += assembler.push(line).length;
    });
    return n + assembler.flush().length;
  },
  'split+parse+track': () => {
    const pipeline = new m.Pipeline(options, file);
    let n = 0;
    eachChunk((chunk) => (n += pipeline.push(chunk).length));
    return n + pipeline.end().length;
  },
};

const run = stages[stage];
if (run === undefined) {
  process.stderr.write(`unknown stage ${stage}\n`);
  process.exit(64);
}
const before = process.cpuUsage();
run();
const used = process.cpuUsage(before);
process.stdout.write(`${(used.user + used.system) / 1000}\n`);
