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
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.js';
import { parseConfig, type Config } from '../../src/config.js';
import { FINGERPRINT_BYTES } from '../../src/tail/identity.js';
import { lineOfRestore, numberedLine } from '../helpers/lines.js';
import { copyStep, gzipStep, renameRotate, shiftCopies, truncateStep, unlinkPlainStep } from '../helpers/rotate.js';
import { random } from '../helpers/random.js';

// `npm test` runs a few hundred sequences; `npm run test:long` runs 2,000 (CI runs both).
const SEQUENCES = Number(process.env.DURABILITY_SEQUENCES ?? 300);
const FIRST_SEED = Number(process.env.DURABILITY_SEED ?? Math.floor(Math.random() * 1e9));
const STEPS = 14;
const GRACE_MS = 1000;
// fsync on tmpfs is free; the durability of fsync itself is exercised by the kill tests on disk.
const ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();


/** The lines a file holds, by the model. */
interface ModelFile {
  lines: number[];
}

class World {
  readonly log: string;
  readonly stateDir: string;
  readonly actions: string[] = [];
  /** Complete lines written, in order. */
  readonly written: number[] = [];
  /** False once the order of delivery cannot be told (a deleted file of which nothing was read). */
  orderKnown = true;
  /** Lines nobody can read any more. */
  readonly excused = new Set<number>();
  /** The model's files by name: '' is the log, '.1', '.2.gz' … its copies. */
  files = new Map<string, ModelFile>();
  private writerFd: number | null = null;
  private writerFile: ModelFile | null = null;
  private partial: { n: number; rest: string } | null = null;
  private next = 1;
  clock = 1_000_000;
  agent!: Agent;
  private readonly config: Config;

  constructor(
    readonly dir: string,
    private readonly random: () => number,
  ) {
    this.log = join(dir, 'production.log');
    this.stateDir = join(dir, 'state');
    this.config = parseConfig({
      log: { path: this.log, rotationGraceMs: GRACE_MS, pollIntervalMs: 50 },
      stateDir: this.stateDir,
      journal: { maxEvents: 100_000 },
    });
    this.reopenWriter();
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }

  async startAgent(): Promise<void> {
    this.agent = new Agent({ config: this.config, logger: pino({ level: process.env.DURABILITY_TRACE ? 'info' : 'silent' }, process.stderr), now: () => this.clock, watch: false });
    await this.agent.start();
  }

  /** Line numbers delivered so far, in journal order. */
  delivered(): number[] {
    return this.agent.journal.all().flatMap((e) => (e.type === 'restore.failed' ? [lineOfRestore(e.operation.id)] : []));
  }

  private excuseUndelivered(file: ModelFile | undefined | null): void {
    if (!file) return;
    const got = new Set(this.delivered());
    for (const n of file.lines) if (!got.has(n)) this.excused.add(n);
  }

  private heldByAgent(fd: number): boolean {
    const st = fstatSync(fd);
    const id = this.agent.status().follower.identity;
    return id !== null && id.ino === st.ino && id.dev === st.dev;
  }

  reopenWriter(): void {
    if (this.writerFd !== null) closeSync(this.writerFd);
    this.writerFd = openSync(this.log, 'a');
    let file = this.files.get('');
    if (file === undefined) {
      file = { lines: [] };
      this.files.set('', file);
    }
    this.writerFile = file;
  }

  write(count: number): void {
    if (this.writerFd === null) this.reopenWriter();
    for (let i = 0; i < count; i++) {
      if (this.partial !== null) {
        writeSync(this.writerFd!, this.partial.rest);
        this.finishLine(this.partial.n);
        this.partial = null;
        continue;
      }
      const n = this.next++;
      writeSync(this.writerFd!, numberedLine(n));
      this.finishLine(n);
    }
  }

  writePartial(): void {
    if (this.writerFd === null) this.reopenWriter();
    if (this.partial !== null) return this.write(1);
    const n = this.next++;
    const text = numberedLine(n);
    // A partial write carries at least a fingerprint's worth of bytes: with less, a file's
    // content cannot be told from another that starts alike (see README, Durability).
    const cut = FINGERPRINT_BYTES + this.int(text.length - FINGERPRINT_BYTES - 1);
    writeSync(this.writerFd!, text.slice(0, cut));
    this.partial = { n, rest: text.slice(cut) };
  }

  private finishLine(n: number): void {
    this.written.push(n);
    if (process.env.DURABILITY_TRACE) process.stderr.write(`  line ${n}\n`);
    this.writerFile!.lines.push(n);
  }

  /** Rotations act at line boundaries: a line cut across two files is the writer's loss, not ours. */
  completeLine(): void {
    if (this.partial !== null) this.write(1);
  }

  private shift(): void {
    for (const move of shiftCopies(this.log)) {
      const file = this.files.get(move.from!);
      this.files.delete(move.from!);
      if (move.to === null) this.excuseUndelivered(file);
      else if (file) this.files.set(move.to, file);
    }
  }

  async maybeCheck(p = 0.5): Promise<void> {
    if (this.chance(p)) await this.agent.follower.check();
  }

  async renameRotation(compress: boolean): Promise<void> {
    this.ensureLog();
    this.completeLine();
    this.shift();
    renameRotate(this.log);
    const old = this.files.get('')!;
    this.files.set('.1', old);
    this.files.set('', { lines: [] });
    await this.maybeCheck();
    // The writer has not reopened yet: it still appends to the renamed file.
    this.write(this.int(3));
    await this.maybeCheck();
    this.reopenWriter();
    if (compress) {
      this.write(this.int(2));
      await this.maybeCheck();
      gzipStep(this.log);
      await this.maybeCheck(0.3);
      unlinkPlainStep(this.log);
      this.files.set('.1.gz', old);
      this.files.delete('.1');
    }
  }

  async copyTruncate(compress: boolean): Promise<void> {
    this.ensureLog();
    this.completeLine();
    this.shift();
    copyStep(this.log);
    const live = this.files.get('')!;
    this.files.set('.1', { lines: [...live.lines] });
    // Written between logrotate's copy and its truncate: lost, by logrotate.
    const before = this.written.length;
    this.write(this.int(2));
    for (const n of this.written.slice(before)) this.excused.add(n);
    truncateStep(this.log);
    live.lines = [];
    await this.maybeCheck();
    this.write(this.int(3));
    if (compress) {
      await this.maybeCheck(0.3);
      gzipStep(this.log);
      await this.maybeCheck(0.3);
      unlinkPlainStep(this.log);
      this.files.set('.1.gz', this.files.get('.1')!);
      this.files.delete('.1');
    }
  }

  truncateByHand(): void {
    this.ensureLog();
    this.completeLine();
    const live = this.files.get('')!;
    // What had not been read yet is gone for everyone.
    this.excuseUndelivered(live);
    truncateStep(this.log);
    live.lines = [];
  }

  async remove(): Promise<void> {
    this.ensureLog();
    this.completeLine();
    const live = this.files.get('')!;
    const held = this.heldByAgent(this.writerFd!);
    // A deleted file of which nothing was read has no place among the rotated copies:
    // its lines are still delivered once, but maybe after copies made from it (see README).
    const got = new Set(this.delivered());
    if (!live.lines.some((n) => got.has(n))) this.orderKnown = false;
    unlinkSync(this.log);
    this.files.delete('');
    // The writer keeps appending to the deleted file until it reopens.
    this.write(this.int(2));
    // Only an agent that holds it open can still read it.
    if (held) this.orphans.push(live);
    else this.excuseUndelivered(live);
    await this.maybeCheck();
    if (this.chance(0.7)) this.reopenWriter();
    else {
      closeSync(this.writerFd!);
      this.writerFd = null;
    }
  }

  /** Deleted files the agent held open: readable only as long as it keeps them open. */
  private orphans: ModelFile[] = [];

  async kill(whileDown: number): Promise<void> {
    await this.agent.stop({ checkpoint: false });
    await this.down(whileDown);
  }

  async restart(whileDown: number): Promise<void> {
    await this.agent.stop();
    await this.down(whileDown);
  }

  private async down(whileDown: number): Promise<void> {
    for (const file of this.orphans.splice(0)) this.excuseUndelivered(file);
    for (let i = 0; i < whileDown; i++) await this.fsAction(false);
    await this.startAgent();
  }

  /** The log exists for the actions that act on it (after a deletion the writer re-creates it). */
  private ensureLog(): void {
    if (this.writerFd === null) this.reopenWriter();
  }

  /** One filesystem action (no agent action when `withAgent` is false, the agent being down). */
  async fsAction(withAgent: boolean): Promise<void> {
    const r = this.int(100);
    if (r < 30) return this.act('write', () => this.write(1 + this.int(4)));
    if (r < 40) return this.act('partial', () => this.writePartial());
    if (r < 50) return this.act('rename-rotation', () => this.renameRotation(false));
    if (r < 55) return this.act('rename-rotation+gzip', () => this.renameRotation(true));
    if (r < 65) return this.act('copytruncate', () => this.copyTruncate(false));
    if (r < 77) return this.act('copytruncate+gzip', () => this.copyTruncate(true));
    if (r < 80) return this.act('truncate', () => this.truncateByHand());
    if (r < 84 && withAgent) return this.act('delete', () => this.remove());
    return this.act('write', () => this.write(1));
  }

  async step(): Promise<void> {
    const r = this.int(100);
    if (r < 55) return this.fsAction(true);
    if (r < 75) return this.act('check', () => this.agent.follower.check());
    if (r < 80) return this.act('checkpoint', () => void this.agent.checkpoint());
    if (r < 85) return this.act('advance-clock', () => void (this.clock += GRACE_MS + 1));
    if (r < 93) {
      const down = this.int(3);
      return this.act(`kill-9 (${down} actions while down)`, () => this.kill(down));
    }
    const down = this.int(3);
    return this.act(`restart (${down} actions while down)`, () => this.restart(down));
  }

  async act(name: string, fn: () => unknown): Promise<void> {
    this.actions.push(name);
    if (process.env.DURABILITY_TRACE) process.stderr.write(`  ${name}\n`);
    await fn();
  }

  /** Lets the agent read everything there is to read. */
  async settle(): Promise<void> {
    this.completeLine();
    if (this.writerFd === null) this.reopenWriter();
    for (let i = 0; i < 4; i++) {
      await this.agent.follower.check();
      this.clock += GRACE_MS + 1;
    }
    await this.agent.follower.check();
  }

  async dispose(): Promise<void> {
    await this.agent.stop();
    if (this.writerFd !== null) closeSync(this.writerFd);
  }
}

async function runSequence(seed: number): Promise<void> {
  if (process.env.DURABILITY_TRACE) process.stderr.write(`seed ${seed}\n`);
  const dir = mkdtempSync(join(ROOT, 'rw-model-'));
  const world = new World(dir, random(seed));
  try {
    await world.startAgent();
    for (let i = 0; i < STEPS; i++) await world.step();
    await world.settle();
    const delivered = world.delivered();
    const problems: string[] = [];
    const seen = new Set<number>();
    for (const n of delivered) {
      if (seen.has(n)) problems.push(`line ${n} delivered twice`);
      seen.add(n);
    }
    for (const n of world.written) if (!seen.has(n) && !world.excused.has(n)) problems.push(`line ${n} lost`);
    const writtenSet = new Set(world.written);
    for (const n of delivered) if (!writtenSet.has(n)) problems.push(`line ${n} delivered but never written whole`);
    for (let i = 1; i < delivered.length && world.orderKnown; i++) {
      if (delivered[i]! < delivered[i - 1]!) problems.push(`line ${delivered[i]} delivered after line ${delivered[i - 1]}`);
    }
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
