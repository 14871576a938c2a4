import { closeSync, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FileIdentity } from '../../src/model.js';
import { FINGERPRINT_BYTES } from '../../src/tail/identity.js';
import { numberedLine } from './lines.js';
import { copyStep, gzipStep, renameRotate, shiftCopies, truncateStep, unlinkPlainStep } from './rotate.js';

/** The reader's rotation grace period: an advance-clock step passes it. */
export const GRACE_MS = 1000;

/** The lines a file holds, by the model. */
interface ModelFile {
  lines: number[];
}

/**
 * Reads the log for the model: the agent, or the follower alone. `delivered` is
 * the line numbers handed on so far, in order; `identity` the file held open.
 */
export interface ModelReader {
  check(): Promise<void>;
  delivered(): number[];
  identity(): FileIdentity | null;
  /** Makes what was delivered survive a restart (the agent's checkpoint); absent where there are no restarts. */
  checkpoint?(): void;
  /** With `checkpoint: false`, as if killed. */
  stop(options?: { checkpoint?: boolean }): Promise<void>;
}

export interface WorldOptions {
  /** Starts a reader on the world's log, with the world's clock. */
  start(world: LogWorld): Promise<ModelReader>;
  /** Kills and restarts are among the steps (the reader keeps what it delivered across them). */
  restarts: boolean;
}

/**
 * A log and the model of what was written to it, acted on by random steps (write,
 * partial write, rename rotation, copytruncate with and without gzip, truncation by
 * hand, deletion, checks, clock, restarts) while a reader follows it. Lines nobody
 * could read any more (written between logrotate's copy and its truncate, emptied by
 * hand or deleted before they were read) are excused.
 */
export class LogWorld {
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
  reader!: ModelReader;

  constructor(
    readonly dir: string,
    private readonly random: () => number,
    private readonly options: WorldOptions,
  ) {
    this.log = join(dir, 'production.log');
    this.stateDir = join(dir, 'state');
    this.reopenWriter();
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }

  async startReader(): Promise<void> {
    this.reader = await this.options.start(this);
  }

  /** Line numbers delivered so far, in order. */
  delivered(): number[] {
    return this.reader.delivered();
  }

  private excuseUndelivered(file: ModelFile | undefined | null): void {
    if (!file) return;
    const got = new Set(this.delivered());
    for (const n of file.lines) if (!got.has(n)) this.excused.add(n);
  }

  private heldByReader(fd: number): boolean {
    const st = fstatSync(fd);
    const id = this.reader.identity();
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
    if (this.chance(p)) await this.reader.check();
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
    const held = this.heldByReader(this.writerFd!);
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
    await this.reader.stop({ checkpoint: false });
    await this.down(whileDown);
  }

  async restart(whileDown: number): Promise<void> {
    await this.reader.stop();
    await this.down(whileDown);
  }

  private async down(whileDown: number): Promise<void> {
    for (const file of this.orphans.splice(0)) this.excuseUndelivered(file);
    for (let i = 0; i < whileDown; i++) await this.fsAction(false);
    await this.startReader();
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
    if (r < 75) return this.act('check', () => this.reader.check());
    if (r < 80) return this.act('checkpoint', () => void this.reader.checkpoint?.());
    if (r < 85) return this.act('advance-clock', () => void (this.clock += GRACE_MS + 1));
    if (!this.options.restarts) return this.act('check', () => this.reader.check());
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
      await this.reader.check();
      this.clock += GRACE_MS + 1;
    }
    await this.reader.check();
  }

  async dispose(): Promise<void> {
    await this.reader.stop();
    if (this.writerFd !== null) closeSync(this.writerFd);
  }
}


/** What is wrong with what `world`'s reader delivered: lines twice, lost, never written whole, or out of order. */
export function deliveryProblems(world: LogWorld): string[] {
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
  return problems;
}
