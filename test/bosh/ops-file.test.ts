import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTool } from '../helpers/tools.js';
import { applyOps, replace, type OpsStep } from './ops-file.js';
import { boshFixture, readYaml, RELEASE } from './release.js';

interface Manifest {
  releases: { name: string; version: string }[];
  instance_groups: { name: string; jobs: { name: string; release: string; properties?: unknown }[] }[];
  variables?: { name: string; type: string }[];
}

// Cases from go-patch's patch/replace_op_test.go, so the interpreter is held to the real semantics.
describe('the ops-file interpreter', () => {
  it.each([
    ['appends a missing optional match', [{ xyz: 'xyz' }], '/name=val?/efg', 1, [{ xyz: 'xyz' }, { name: 'val', efg: 1 }]],
    ['makes every token after a `?` optional', [{ xyz: 'xyz' }], '/name=val?/efg/name=val', 1, [{ xyz: 'xyz' }, { name: 'val', efg: [1] }]],
    ['replaces an optional key that is missing', { abc: { opr: 'opr' }, xyz: 'xyz' }, '/abc/efg?', 1, { abc: { opr: 'opr', efg: 1 }, xyz: 'xyz' }],
    ['creates a map under a missing optional key', { abc: { efg: {} } }, '/abc/opr?/efg', 1, { abc: { efg: {}, opr: { efg: 1 } } }],
    ['replaces the one match, skipping items that are not maps', [3, { key: 'val' }], '/key=val', 100, [3, 100]],
    ['creates an array under a missing optional key before `-`', { abc: 1 }, '/list?/-', 'x', { abc: 1, list: ['x'] }],
  ])('%s', (_name, doc, path, value, expected) => {
    expect(replace(structuredClone(doc), path, value)).toEqual(expected);
  });

  it.each([
    ['a missing key', { xyz: 'xyz' }, '/abc/efg', "Expected to find a map key 'abc' for path '/abc' (found map keys: 'xyz')"],
    ['no match', [{ key: 'val2' }, { key2: 'val' }], '/key=val', "Expected to find exactly one matching array item for path '/key=val' but found 0"],
    ['two matches', [{ key: 'val' }, { key: 'val' }], '/key=val', "Expected to find exactly one matching array item for path '/key=val' but found 2"],
    ['a map where an array is due', {}, '/key=val', "Expected to find an array at path '/key=val' but found 'map[interface {}]interface {}'"],
  ])('fails on %s as go-patch does', (_name, doc, path, message) => {
    expect(() => replace(doc, path, 1)).toThrow(message);
  });
});

describe.skipIf(!haveTool('ruby', 'ruby'))('add-restore-watcher.yml applied to a manifest', { concurrent: true }, () => {
  const opsFile = join(RELEASE, 'manifests', 'add-restore-watcher.yml');

  async function apply(manifestFixture: string): Promise<Manifest> {
    const ops = await readYaml<OpsStep[]>(opsFile);
    return applyOps(await readYaml<Manifest>(boshFixture(manifestFixture)), ops) as Manifest;
  }

  const pg = (manifest: Manifest) => manifest.instance_groups.find((group) => group.name === 'pg')!;

  it('with variables and bpm: adds the job and the password variable, keeps what is there', async () => {
    const before = await readYaml<Manifest>(boshFixture('a9s-pg-manifest.yml'));
    const after = await apply('a9s-pg-manifest.yml');
    expect(after.variables).toEqual([...before.variables!, { name: 'restore_watcher_password', type: 'password' }]);
    expect(after.releases).toEqual([...before.releases, { name: 'restore-watcher', version: 'latest' }]);
    expect(pg(after).jobs.map((job) => job.name)).toEqual(['postgresql-ha', 'backup-agent', 'bpm', 'restore-watcher']);
  });

  it('without a variables section or bpm: creates the section and adds bpm', async () => {
    const after = await apply('manifest-without-variables.yml');
    expect(after.variables).toEqual([{ name: 'restore_watcher_password', type: 'password' }]);
    expect(pg(after).jobs.map((job) => `${job.release}/${job.name}`)).toEqual([
      'a9s-pg/postgresql-ha',
      'a9s-pg/backup-agent',
      'bpm/bpm',
      'restore-watcher/restore-watcher',
    ]);
  });

  it('applied twice, changes nothing more', async () => {
    const ops = await readYaml<OpsStep[]>(opsFile);
    for (const fixture of ['a9s-pg-manifest.yml', 'manifest-without-variables.yml']) {
      const once = await apply(fixture);
      expect(applyOps(once, ops), fixture).toEqual(once);
    }
  });

  it('a path without `?` on variables fails on a manifest without them, as the CLI reports', async () => {
    const manifest = await readYaml<Manifest>(boshFixture('manifest-without-variables.yml'));
    expect(() => replace(manifest, '/variables/name=restore_watcher_password?', {})).toThrow(
      "Expected to find a map key 'variables' for path '/variables' (found map keys: 'instance_groups', 'name', 'releases', 'stemcells', 'update')",
    );
  });
});
