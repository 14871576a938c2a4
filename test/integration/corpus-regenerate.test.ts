import { execa } from 'execa';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveCorpusLibraries } from '../helpers/ruby-libs.js';

// The corpus in fixtures/corpus is written by the real Ruby libraries; this
// regenerates it and holds it to the committed bytes, so a fixture can neither
// be edited by hand nor drift from what the generator writes.
const CORPUS = fileURLToPath(new URL('../../fixtures/corpus/', import.meta.url));
const GENERATOR = fileURLToPath(new URL('../../scripts/corpus/generate.rb', import.meta.url));

interface Story {
  case: string;
  operations: unknown[];
  attribution: { line: string; belongsTo: number | null }[];
}

const committedLogs = async () => (await readdir(CORPUS)).filter((f) => f.endsWith('.log')).sort();

describe.skipIf(!haveCorpusLibraries())('corpus of backup-agent logs', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'corpus-'));
    await execa('ruby', [GENERATOR, out], { timeout: 60_000 });
  }, 90_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('regenerates the same cases as are committed', async () => {
    const generated = (await readdir(out)).filter((f) => f.endsWith('.log')).sort();
    expect(generated).toEqual(await committedLogs());
  });

  it('regenerates every case byte for byte', async () => {
    for (const name of await committedLogs()) {
      const generated = await readFile(join(out, name));
      const committed = await readFile(join(CORPUS, name));
      expect(generated.equals(committed), `${name} differs from fixtures/corpus: run npm run corpus and review the diff`).toBe(true);
    }
  });

  it('has a story for every case, whose attributed lines are in its log', async () => {
    for (const name of await committedLogs()) {
      const base = name.replace(/\.log$/, '');
      const story = JSON.parse(await readFile(join(CORPUS, `${base}.story.json`), 'utf8')) as Story;
      expect(story.case).toBe(base);
      const log = await readFile(join(CORPUS, name), 'utf8');
      for (const { line, belongsTo } of story.attribution) {
        expect(log.split(line).length - 1, `${base}: "${line}" should occur exactly once`).toBe(1);
        if (belongsTo !== null) expect(belongsTo).toBeLessThan(story.operations.length);
      }
    }
  });
});
