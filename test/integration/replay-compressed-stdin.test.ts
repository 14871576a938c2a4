import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fixture } from '../helpers/cli.js';
import { haveTool } from '../helpers/tools.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'rw-replay-'));
/** Compressed by the real gzip, as logrotate's `compress` does. */
const gzip = (path: string): Buffer => execFileSync('gzip', ['-c', path]);

async function plainStory(): Promise<string> {
  const r = await cli(['replay', '--json', fixture('backup-then-restore.log')]);
  expect(r.exitCode).toBe(0);
  return String(r.stdout);
}

describe.skipIf(!haveTool('gzip', 'gzip'))('replay of a rotated, compressed log and of stdin', () => {
  it('reads a .gz file as the log it holds', async () => {
    const gz = join(tmp(), 'production.log.1.gz');
    writeFileSync(gz, gzip(fixture('backup-then-restore.log')));
    const r = await cli(['replay', '--json', gz]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const events = String(r.stdout).trim().split('\n').map((l) => JSON.parse(l) as { type: string; file: string });
    expect(events.map((e) => e.type)).toContain('restore.succeeded');
    // The same events as from the plain file, but for the file they name.
    expect(String(r.stdout).replaceAll(JSON.stringify(gz), '"F"')).toBe(
      (await plainStory()).replaceAll(JSON.stringify(fixture('backup-then-restore.log')), '"F"'),
    );
    const timeline = await cli(['replay', gz]);
    expect(timeline.stdout).toMatch(/production\.log\.1\.gz: 20 lines \(0 not recognised\), 1 restore, 1 backup$/m);
  });

  it('tells compression by content, not by name', async () => {
    const renamed = join(tmp(), 'production.log.1');
    writeFileSync(renamed, gzip(fixture('restore-failed-backtrace.log')));
    const r = await cli(['replay', renamed]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/: 9 lines \(0 not recognised\), 1 restore, 0 backups$/m);
  });

  it('reads stdin with -, compressed or not', async () => {
    const plain = await cli(['replay', '--json', '-'], { input: readFileSync(fixture('backup-then-restore.log')) });
    expect([plain.exitCode, plain.stderr]).toEqual([0, '']);
    expect(String(plain.stdout).replaceAll('"file":"stdin"', '"file":"F"').replaceAll('"path":"stdin"', '"path":"F"')).toBe(
      (await plainStory()).replaceAll(JSON.stringify(fixture('backup-then-restore.log')), '"F"'),
    );
    const compressed = await cli(['replay', '-'], { input: gzip(fixture('restore-failed-backtrace.log')) });
    expect(compressed.exitCode).toBe(0);
    expect(compressed.stdout).toMatch(/^stdin: 9 lines \(0 not recognised\), 1 restore, 0 backups$/m);
  });

  it('says a damaged .gz cannot be uncompressed, exit 66, in one line', async () => {
    const cut = join(tmp(), 'production.log.1.gz');
    writeFileSync(cut, gzip(fixture('backup-then-restore.log')).subarray(0, 200));
    const r = await cli(['replay', cut]);
    expect(r.exitCode).toBe(66);
    expect(r.stderr).toBe(`restore-watcher: ${cut}: gzip-compressed, but cannot be uncompressed (unexpected end of file)`);
  });
});
