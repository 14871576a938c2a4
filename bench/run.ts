/**
 * `npm run bench`: runs the benchmark scenarios and writes BENCHMARKS.md.
 *
 *   npm run bench                      every scenario, full size
 *   npm run bench -- --quick           smaller inputs, fewer rounds (a look, not figures to quote)
 *   npm run bench -- --only 1,latency  some scenarios, by number or name
 *   npm run bench -- --rounds 3        rounds per measurement
 *   npm run bench -- --out FILE        write the report elsewhere (default BENCHMARKS.md)
 *   npm run bench -- --bin FILE        measure another build's bin/restore-watcher.* (an older checkout, say)
 *   npm run bench -- --node FILE       run the agent and every baseline on this Node.js (the BOSH package's, say)
 *
 * A scenario whose prerequisite is missing from this checkout is skipped, and
 * the report says why. Every server started binds 127.0.0.1 on a free port.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, loadAverage } from './machine.js';
import { renderReport, type Outcome } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { catchUp } from './scenarios/catch-up.js';
import { followers } from './scenarios/followers.js';
import { liveLatency } from './scenarios/live-latency.js';
import { memoryUnderLoad } from './scenarios/memory-under-load.js';
import { firstStart } from './scenarios/first-start.js';
import { replayThroughput } from './scenarios/replay-throughput.js';
import { resumeFlood } from './scenarios/resume-flood.js';
import { serveCatchUp } from './scenarios/serve-catch-up.js';
import { sustainedLoad } from './scenarios/sustained-load.js';

export const SCENARIOS: Scenario[] = [
  replayThroughput,
  liveLatency,
  memoryUnderLoad,
  followers,
  catchUp,
  sustainedLoad,
  firstStart,
  resumeFlood,
  serveCatchUp,
];

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      bin: { type: 'string' },
      node: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench -- [--quick] [--only 1,2|name,...] [--rounds N] [--out FILE] [--bin FILE] [--node FILE]\n');
    for (const s of SCENARIOS) process.stdout.write(`  ${s.id}  ${s.name.padEnd(10)} ${s.title}\n`);
    return 0;
  }
  const selected = select(values.only);
  const rounds = values.rounds === undefined ? null : Number(values.rounds);
  if (rounds !== null && !(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds takes a positive integer');
  const workDir = mkdtempSync(join(tmpdir(), 'restore-watcher-bench-'));
  const ctx: BenchContext = {
    root,
    bin: values.bin !== undefined ? resolve(values.bin) : join(root, 'bin', 'restore-watcher.cjs'),
    node: values.node !== undefined ? resolve(values.node) : process.execPath,
    workDir,
    quick: values.quick,
    rounds,
    log: (message) => process.stderr.write(`  ${message}\n`),
  };
  const loadBefore = loadAverage();
  const outcomes: Outcome[] = [];
  try {
    for (const scenario of selected) {
      process.stderr.write(`${scenario.id}. ${scenario.title}\n`);
      const reason = await scenario.missing(ctx);
      if (reason !== null) {
        process.stderr.write(`  skipped: ${reason}\n`);
        outcomes.push({ scenario, status: 'skipped', reason });
        continue;
      }
      const started = performance.now();
      try {
        const result = await scenario.run(ctx);
        process.stderr.write(`  ${result.headline}\n`);
        outcomes.push({ scenario, status: 'measured', result, seconds: (performance.now() - started) / 1000 });
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        process.stderr.write(`  failed: ${error}\n`);
        outcomes.push({ scenario, status: 'failed', error });
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const args = process.argv.slice(2);
  const report = renderReport({
    machine: describeMachine(root, ctx.node),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    loadBefore,
    loadAfter: loadAverage(),
    outcomes,
  });
  const out = resolve(root, values.out);
  writeFileSync(out, report);
  process.stderr.write(`wrote ${out}\n`);
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

function select(only: string | undefined): Scenario[] {
  if (only === undefined) return SCENARIOS;
  return only.split(',').map((key) => {
    const s = SCENARIOS.find((c) => String(c.id) === key.trim() || c.name === key.trim());
    if (s === undefined) throw new Error(`--only: no scenario "${key}" (see --help)`);
    return s;
  });
}

process.exitCode = await main();
