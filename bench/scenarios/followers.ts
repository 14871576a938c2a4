/**
 * Scenario 4, followers side by side: restore-watcher's follower and the npm
 * `tail` package (fs.watch and fs.watchFile modes) follow the same path through
 * the same rotation, while a writer appends numbered lines through an open
 * O_APPEND descriptor as a logger does. Afterwards each reader's numbers are
 * compared with what was written: lines lost and lines read twice.
 */
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { Arrivals, sleep, waitFor } from '../live.js';

/** The parts of dist/tail/follower.js used here. */
interface FileFollowerModule {
  FileFollower: new (
    options: { path: string; pollIntervalMs: number; rotationGraceMs: number },
    sink: { data(chunk: Buffer): void; pause(): void; switchFile(): void; notice(): void },
  ) => { start(): Promise<void>; stop(): Promise<void> };
}

/** The parts of the npm `tail` package used here. */
interface TailPackage {
  Tail: new (
    file: string,
    options: { follow: boolean; fromBeginning: boolean; useWatchFile: boolean; fsWatchOptions?: { interval: number } },
  ) => { on(event: 'line', f: (line: string) => void): void; on(event: 'error', f: (e: unknown) => void): void; unwatch(): void };
}

type Rotation = 'create' | 'copytruncate' | 'truncate' | 'delete/recreate';
const ROTATIONS: Rotation[] = ['create', 'copytruncate', 'truncate', 'delete/recreate'];
/** Lines the writer still sends to the old file after a rename or delete, before it reopens the path. */
const LATE_LINES = 20;

interface Reader {
  name: string;
  arrivals: Arrivals;
  stop(): Promise<void> | void;
}

export const followers: Scenario = {
  id: 4,
  name: 'followers',
  title: 'Followers side by side',
  goal: 'no line lost or read twice through create, copytruncate, truncate and delete/recreate rotations',
  design:
    'For each rotation kind (create: rename, the writer writes a few more lines to the renamed file, then ' +
    'reopens the path; copytruncate: copy then truncate in place; truncate; delete, a few more lines to the ' +
    'deleted file, then recreate), a writer appends numbered lines every 2 ms and rotates halfway. The follower ' +
    'of src/tail/ and the npm `tail` package (fs.watch and fs.watchFile modes) follow the same path at the same ' +
    'time. Afterwards each reader\'s numbers are compared with what was written: lines lost, lines read twice.',
  missing: async (ctx) => moduleMissing(ctx, 'tail/follower.js', 'the follower'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 200 : 600;
    const { FileFollower } = (await import(pathToFileURL(join(ctx.root, 'dist/tail/follower.js')).href)) as FileFollowerModule;
    const { defaultConfig } = (await import(pathToFileURL(join(ctx.root, 'dist/defaults.js')).href)) as {
      defaultConfig(): { log: { pollIntervalMs: number; rotationGraceMs: number } };
    };
    const { pollIntervalMs, rotationGraceMs } = defaultConfig().log;
    const { Tail } = createRequire(import.meta.url)('tail') as TailPackage;
    const rows: string[][] = [];
    let restoreWatcherClean = true;
    for (const [phase, rotation] of ROTATIONS.entries()) {
      ctx.log(rotation);
      const dir = join(ctx.workDir, `followers-${phase}`);
      mkdirSync(dir);
      const path = join(dir, 'production.log');
      writeFileSync(path, '');
      const readers: Reader[] = [];

      const ours = new Arrivals(phase);
      let carry = '';
      const follower = new FileFollower(
        { path, pollIntervalMs, rotationGraceMs },
        {
          data: (chunk) => {
            const text = carry + chunk.toString('utf8');
            const end = text.lastIndexOf('\n');
            ours.take(text.slice(0, end + 1));
            carry = text.slice(end + 1);
          },
          pause: () => undefined,
          switchFile: () => (carry = ''),
          notice: () => undefined,
        },
      );
      await follower.start();
      readers.push({ name: 'restore-watcher follower', arrivals: ours, stop: () => follower.stop() });
      for (const useWatchFile of [false, true]) {
        const arrivals = new Arrivals(phase);
        const tail = new Tail(path, { follow: true, fromBeginning: true, useWatchFile, fsWatchOptions: { interval: 100 } });
        tail.on('line', (line) => arrivals.take(line));
        tail.on('error', () => undefined);
        readers.push({ name: `npm tail (${useWatchFile ? 'fs.watchFile' : 'fs.watch'})`, arrivals, stop: () => tail.unwatch() });
      }
      await sleep(300);

      let fd = openSync(path, 'a');
      let seq = 0;
      const write = async (n: number, to = fd): Promise<void> => {
        for (let i = 0; i < n; i++) {
          seq++;
          writeSync(to, `line mark-${phase}-${seq}\n`);
          await sleep(2);
        }
      };
      await write(lines / 2);
      if (rotation === 'create' || rotation === 'delete/recreate') {
        if (rotation === 'create') renameSync(path, `${path}.1`);
        else unlinkSync(path);
        await write(LATE_LINES); // still through the old descriptor
        closeSync(fd);
        fd = openSync(path, 'a');
      } else {
        if (rotation === 'copytruncate') copyFileSync(path, `${path}.1`);
        ftruncateSync(fd, 0);
      }
      await write(lines / 2);
      closeSync(fd);
      const written = seq;
      const everyone = (): boolean => readers.every((r) => r.arrivals.at.size >= written);
      await waitFor(everyone, rotationGraceMs + 3000, 50);
      for (const r of readers) await r.stop();
      for (const r of readers) {
        const lost = written - r.arrivals.at.size;
        if (r.name.startsWith('restore-watcher') && (lost > 0 || r.arrivals.repeats > 0)) restoreWatcherClean = false;
        rows.push([rotation, r.name, String(written), String(lost), String(r.arrivals.repeats)]);
      }
    }
    const ourRows = rows.filter((r) => r[1]!.startsWith('restore-watcher'));
    const theirRows = rows.filter((r) => !r[1]!.startsWith('restore-watcher'));
    const sum = (rs: string[][], col: number): number => rs.reduce((n, r) => n + Number(r[col]), 0);
    return {
      headline:
        `through four rotations restore-watcher's follower lost ${sum(ourRows, 3)} lines and read ${sum(ourRows, 4)} twice; ` +
        `the npm tail package lost ${sum(theirRows, 3)} and read ${sum(theirRows, 4)} twice (both modes together)`,
      goalMet: restoreWatcherClean,
      tables: [
        {
          caption: `${lines} lines per rotation kind, one every 2 ms, rotated halfway; ${LATE_LINES} lines go to the old file after a rename or delete`,
          header: ['rotation', 'reader', 'written', 'lost', 'read twice'],
          rows,
        },
      ],
      notes: [
        `restore-watcher's follower runs with the default config (poll every ${pollIntervalMs} ms, old file kept ` +
          `open ${rotationGraceMs} ms after a rotation). npm tail runs with follow and fromBeginning; fs.watchFile polls every 100 ms.`,
        'Each reader is given the rotation grace period plus 3 s after the last write to catch up.',
      ],
    };
  },
};
