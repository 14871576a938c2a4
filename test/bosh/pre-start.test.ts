import { execa } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { haveTool } from '../helpers/tools.js';
import { renderOrThrow, REPO } from './release.js';

/**
 * A scratch /var/vcap: the job's rendered config and pre-start, with this
 * checkout standing in for the restore-watcher package and this machine's node
 * for the node package (the packaged ones are exercised by the smoke test).
 */
async function vcapRoot(properties: object, spec: object = {}): Promise<{ root: string; preStart: string }> {
  const root = mkdtempSync(join(tmpdir(), 'rw-vcap-'));
  const job = join(root, 'jobs', 'restore-watcher');
  mkdirSync(join(job, 'config'), { recursive: true });
  mkdirSync(join(job, 'bin'), { recursive: true });
  mkdirSync(join(root, 'packages', 'node', 'bin'), { recursive: true });
  symlinkSync(process.execPath, join(root, 'packages', 'node', 'bin', 'node'));
  symlinkSync(REPO, join(root, 'packages', 'restore-watcher'));
  writeFileSync(join(job, 'config', 'config.json'), await renderOrThrow('config.json.erb', { properties }));
  const preStart = join(job, 'bin', 'pre-start');
  writeFileSync(preStart, await renderOrThrow('pre-start.erb', { properties, spec }));
  chmodSync(preStart, 0o755);
  roots.push(root);
  return { root, preStart };
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const runPreStart = (root: string, preStart: string) =>
  execa(preStart, [], { reject: false, env: { VCAP_ROOT: root }, extendEnv: true });

describe.skipIf(!haveTool('ruby', 'ruby'))('pre-start', () => {
  it('passes a valid config and names the instance it runs on', async () => {
    const { root, preStart } = await vcapRoot(
      { restore_watcher: { auth: { password: 'x' } } },
      { deployment: 'a9s-pg-prod', name: 'pg', index: 2, address: '10.1.2.3' },
    );
    const r = await runPreStart(root, preStart);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('restore-watcher pre-start on a9s-pg-prod/pg/2 (10.1.2.3)');
    expect(r.stdout).toContain('restore-watcher pre-start: config ok');
  });

  it('fails the deploy on a bad property, saying which key and how keys map to properties', async () => {
    const { root, preStart } = await vcapRoot({
      restore_watcher: { auth: { password: 'x' }, log: { timezone: 'Mars/Olympus_Mons' } },
    });
    const r = await runPreStart(root, preStart);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("restore-watcher pre-start: the job's properties do not make a valid config:");
    expect(r.stderr).toMatch(/log\.timezone: expected an IANA time zone/);
    expect(r.stderr).toContain('restore_watcher.a.b_c');
    expect(r.stdout).not.toContain('config ok');
  });

  it("only warns while the backup-agent's log directory is missing", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'rw-backup-agent-'));
    roots.push(logDir);
    chmodSync(logDir, 0o755); // so that a vcap user, where there is one, may read it
    const missing = join(logDir, 'not-yet');
    const { root, preStart } = await vcapRoot({
      restore_watcher: { auth: { password: 'x' }, log: { path: join(missing, 'production.log') } },
    });
    const before = await runPreStart(root, preStart);
    expect(before.exitCode).toBe(0);
    expect(before.stderr).toContain(`warning: ${missing} does not exist yet`);

    mkdirSync(missing);
    const after = await runPreStart(root, preStart);
    expect(after.exitCode).toBe(0);
    expect(after.stderr).not.toContain('warning');
  });
});
