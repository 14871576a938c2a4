import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { haveTool } from '../helpers/tools.js';
import { runPreStart, vcapRoot, type VcapRoot } from './release.js';

/** A scratch /var/vcap with stand-ins for the packages (the smoke test uses the real ones). */
async function vcapRootWith(properties: object, spec: object = {}): Promise<VcapRoot> {
  const vcap = await vcapRoot({ properties, spec });
  roots.push(vcap.root);
  return vcap;
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!haveTool('ruby', 'ruby'))('pre-start', () => {
  it('passes a valid config and names the instance it runs on', async () => {
    const vcap = await vcapRootWith(
      { restore_watcher: { auth: { password: 'x' } } },
      { deployment: 'a9s-pg-prod', name: 'pg', index: 2, address: '10.1.2.3' },
    );
    const r = await runPreStart(vcap);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('restore-watcher pre-start on a9s-pg-prod/pg/2 (10.1.2.3)');
    expect(r.stdout).toContain('restore-watcher pre-start: config ok');
  });

  it('fails the deploy on a bad property, saying which key and how keys map to properties', async () => {
    const vcap = await vcapRootWith({
      restore_watcher: { auth: { password: 'x' }, log: { timezone: 'Mars/Olympus_Mons' } },
    });
    const r = await runPreStart(vcap);
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
    const vcap = await vcapRootWith({
      restore_watcher: { auth: { password: 'x' }, log: { path: join(missing, 'production.log') } },
    });
    const before = await runPreStart(vcap);
    expect(before.exitCode).toBe(0);
    expect(before.stderr).toContain(`warning: ${missing} does not exist yet`);

    mkdirSync(missing);
    const after = await runPreStart(vcap);
    expect(after.exitCode).toBe(0);
    expect(after.stderr).not.toContain('warning');
  });
});
