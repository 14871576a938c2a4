/**
 * A model-based test of the follower alone (no agent, no pipeline): the random
 * filesystem actions of the agent's model test (write, partial write, rename
 * rotation, copytruncate with and without gzip, truncation by hand, deletion) are
 * applied to a log while a follower reads it into a recording sink, woken by hand
 * on a clock the test moves. Every line written is delivered exactly once and in
 * order, except lines nobody could read any more; the bytes of each file are
 * handed on without a gap or an overlap, and each line names the log or one of its
 * rotated copies as the file it was read from. Restarts are the agent model
 * test's concern (durability-model.test.ts).
 *
 * Seeded: a failure prints the seed and the actions; FOLLOWER_MODEL_SEED=<seed>
 * FOLLOWER_MODEL_SEQUENCES=1 replays it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { FileFollower } from '../../src/tail/follower.js';
import { ManualWaker } from '../../src/tail/waker.js';
import { deliveryProblems, GRACE_MS, LogWorld, type ModelReader } from '../helpers/log-model.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { random } from '../helpers/random.js';

const SEQUENCES = Number(process.env.FOLLOWER_MODEL_SEQUENCES ?? 150);
const FIRST_SEED = Number(process.env.FOLLOWER_MODEL_SEED ?? Math.floor(Math.random() * 1e9));
const STEPS = 16;
const ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
/** A whole line as `numberedLine` writes it; its time names the line. */
const NUMBERED = /^10\.0\.0\.\d+ - admin \[20\/Nov\/2018:(\d\d):(\d\d):(\d\d) \+0000\] "POST \/v1\/restore HTTP\/1\.1" 500 13 0\.0\d00$/;

interface FollowerReader extends ModelReader {
  sink: RecordingSink;
}

async function startFollower(world: LogWorld): Promise<FollowerReader> {
  const sink = new RecordingSink();
  const waker = new ManualWaker();
  const follower = new FileFollower({ path: world.log, pollIntervalMs: 50, rotationGraceMs: GRACE_MS, waker, now: () => world.clock }, sink);
  await follower.start();
  return {
    sink,
    check: () => waker.wake(),
    delivered: () =>
      sink.lines.flatMap((l) => {
        const m = NUMBERED.exec(l.text);
        return m === null ? [] : [Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])];
      }),
    identity: () => follower.status().identity,
    stop: () => follower.stop(),
  };
}

async function runSequence(seed: number): Promise<void> {
  const dir = mkdtempSync(join(ROOT, 'rw-follower-model-'));
  let reader: FollowerReader | null = null;
  const world = new LogWorld(dir, random(seed), {
    start: async (w) => (reader = await startFollower(w)),
    restarts: false,
  });
  try {
    await world.startReader();
    for (let i = 0; i < STEPS; i++) await world.step();
    await world.settle();
    const sink = reader!.sink;
    const problems = deliveryProblems(world);
    problems.push(...sink.gaps);
    const copy = new RegExp(`^${world.log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.\\d+(\\.gz)?)?$`);
    for (const l of sink.lines) if (!copy.test(l.path)) problems.push(`a line names ${l.path}`);
    if (problems.length > 0) {
      throw new Error(
        `seed ${seed}: ${problems.slice(0, 5).join('; ')}\n  actions: ${world.actions.join(', ')}\n` +
          `  written: ${world.written.join()}\n  delivered: ${world.delivered().join()}\n  excused: ${[...world.excused].join()}\n` +
          `  replay: FOLLOWER_MODEL_SEED=${seed} FOLLOWER_MODEL_SEQUENCES=1 npx vitest run test/integration/follower-model.test.ts`,
      );
    }
  } finally {
    await world.dispose().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the follower alone against a model of the log', () => {
  it(`hands on every readable line exactly once over ${SEQUENCES} random sequences (first seed ${FIRST_SEED})`, async () => {
    for (let i = 0; i < SEQUENCES; i++) await runSequence(FIRST_SEED + i);
  }, 120_000);
});
