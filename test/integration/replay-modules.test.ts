import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The source modules `restore-watcher ARGS` loads, as paths under the package (`src/…`,
 * `node_modules/…`) or `node:` names. The CLI runs from the bundle (dist-cli/): each chunk
 * loaded stands for the modules of src/ it was built from, read from its source map.
 */
function loadedModules(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'rw-modules-'));
  const trace = join(dir, 'trace.txt');
  writeFileSync(trace, '');
  execFileSync(process.execPath, ['--import', join(ROOT, 'test/helpers/import-trace.mjs'), BIN, ...args], {
    env: { ...process.env, IMPORT_TRACE_FILE: trace },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const urls = new Set(readFileSync(trace, 'utf8').split('\n').filter((u) => u !== ''));
  const files = [...urls].map((u) => u.replace(`file://${ROOT}/`, ''));
  return [...new Set(files.flatMap(sourcesOf))].sort();
}

/** A bundle chunk's modules of src/; any other file as it is. */
function sourcesOf(file: string): string[] {
  if (!/^dist-cli\/.*\.cjs$/.test(file) || !existsSync(join(ROOT, `${file}.map`))) return [file];
  const map = JSON.parse(readFileSync(join(ROOT, `${file}.map`), 'utf8')) as { sources: string[] };
  return map.sources.map((source) => relative(ROOT, resolve(ROOT, dirname(file), source)));
}

describe('replay loads only what it uses', () => {
  it('no HTTP server, agent, journal, config validation or third-party package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-modules-'));
    const log = join(dir, 'empty.log');
    writeFileSync(log, '');
    const loaded = loadedModules(['replay', log]);
    expect(loaded).toContain('src/commands/replay.ts');
    expect(loaded).toContain('src/track/tracker.ts');
    const unwanted = loaded.filter((m) => /node_modules|src\/(serve|watch|journal|tail|agent|probe)\/|src\/(config|service|agent)\.ts/.test(m));
    expect(unwanted).toEqual([]);
    // A plain file needs no streams, gzip or promises: node:fs as an import would load the streams with its facade.
    expect(loaded.filter((m) => /^node:(fs|fs\/promises|stream|zlib)$/.test(m))).toEqual([]);
  });

  it('a compressed file loads gzip and the streams it needs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-modules-'));
    const log = join(dir, 'production.log.1.gz');
    writeFileSync(log, gzipSync('172.28.19.56 - - [20/Nov/2018:12:12:30 +0000] "GET /v1/status HTTP/1.1" 200 2 0.0010\n'));
    const loaded = loadedModules(['replay', log]);
    expect(loaded).toEqual(expect.arrayContaining(['node:zlib', 'node:stream']));
  });

  it('serve, for contrast, loads the server (so the trace sees what is loaded)', () => {
    const loaded = loadedModules(['serve', '--help']);
    expect(loaded).toContain('src/serve/server.ts');
    expect(loaded.some((m) => m.includes('node_modules/fastify/'))).toBe(true);
  });
});
