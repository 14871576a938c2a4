/**
 * A model-based test of the whole agent on real files: random sequences of
 * filesystem actions (write, partial write, rename rotation, copytruncate with and
 * without gzip, truncation by hand, deletion, restarts and kills) are applied to a
 * log while an agent follows it, and the events it journals are checked against a
 * model of what was written: every line is delivered exactly once and in order,
 * except lines that nobody could read any more (written between logrotate's copy
 * and its truncate, emptied by hand or deleted before they were read).
 *
 * Each line is a refused restore request with its own second, so it makes exactly
 * one event whose restore id names the line. The agent runs in-process, its
 * follower driven by `check()` and its clock by the test; a kill -9 is an agent
 * dropped without its last checkpoint and a new one started on the same state
 * directory (a real SIGKILL is tested in kill-restart.test.ts).
 *
 * Seeded: a failure prints the seed and the actions; DURABILITY_SEED=<seed>
 * DURABILITY_SEQUENCES=1 replays it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config.js';
import { lineOfRestore } from '../helpers/lines.js';
import { deliveryProblems, GRACE_MS, LogWorld, type ModelReader } from '../helpers/log-model.js';
import { random } from '../helpers/random.js';

// `npm test` runs a few hundred sequences; `npm run test:long` runs 2,000 (CI runs both).
const SEQUENCES = Number(process.env.DURABILITY_SEQUENCES ?? 300);
const FIRST_SEED = Number(process.env.DURABILITY_SEED ?? Math.floor(Math.random() * 1e9));
const STEPS = 14;
// fsync on tmpfs is free; the durability of fsync itself is exercised by the kill tests on disk.
const ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** The agent as the model's reader: what it delivered is what it journaled. */
async function startAgent(world: LogWorld): Promise<ModelReader> {
  const config = parseConfig({
    log: { path: world.log, rotationGraceMs: GRACE_MS, pollIntervalMs: 50 },
    stateDir: world.stateDir,
    journal: { maxEvents: 100_000 },
  });
  const agent = new Agent({ config, logger: pino({ level: process.env.DURABILITY_TRACE ? 'info' : 'silent' }, process.stderr), now: () => world.clock, watch: false });
  await agent.start();
  return {
    check: () => agent.follower.check(),
    // A refused request is `restore.requested` and `restore.failed`: the verdict names the line.
    delivered: () => agent.journal.all().flatMap((e) => (e.type === 'restore.failed' ? [lineOfRestore(e.operation.id)] : [])),
    identity: () => agent.status().follower.identity,
    checkpoint: () => void agent.checkpoint(),
    stop: (options) => agent.stop(options),
  };
}

async function runSequence(seed: number): Promise<void> {
  if (process.env.DURABILITY_TRACE) process.stderr.write(`seed ${seed}\n`);
  const dir = mkdtempSync(join(ROOT, 'rw-model-'));
  const world = new LogWorld(dir, random(seed), { start: startAgent, restarts: true });
  try {
    await world.startReader();
    for (let i = 0; i < STEPS; i++) await world.step();
    await world.settle();
    const delivered = world.delivered();
    const problems = deliveryProblems(world);
    // What a restart loads from disk is what was delivered.
    await world.restart(0);
    const reloaded = world.delivered();
    if (reloaded.join() !== delivered.join()) problems.push(`journal after restart differs: ${reloaded.join()} vs ${delivered.join()}`);
    if (problems.length > 0) {
      throw new Error(
        `seed ${seed}: ${problems.slice(0, 5).join('; ')}\n  actions: ${world.actions.join(', ')}\n` +
          `  written: ${world.written.join()}\n  delivered: ${delivered.join()}\n  excused: ${[...world.excused].join()}\n` +
          `  replay: DURABILITY_SEED=${seed} DURABILITY_SEQUENCES=1 npx vitest run test/integration/durability-model.test.ts`,
      );
    }
  } finally {
    await world.dispose().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the agent against a model of the log', () => {
  it(`delivers every readable line exactly once over ${SEQUENCES} random sequences (first seed ${FIRST_SEED})`, async () => {
    for (let i = 0; i < SEQUENCES; i++) await runSequence(FIRST_SEED + i);
  }, 300_000);
});
