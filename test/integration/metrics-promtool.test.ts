import { execa } from 'execa';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asDeployed } from '../helpers/as-deployed.js';
import { BIN, fixture } from '../helpers/cli.js';
import { waitForOutput } from '../helpers/output.js';
import { haveTool } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rw-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveTool('promtool', 'prometheus'))('/metrics of a running agent', () => {
  it('passes `promtool check metrics`, with a restore, a backup and the probe in it', async () => {
    const log = join(dir, 'production.log');
    copyFileSync(fixture('backup-then-restore.log'), log);
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        log: { path: log },
        http: { host: '127.0.0.1', port: 0 },
        auth: { username: 'admin', password: 'metrics-pw' },
        stateDir: join(dir, 'state'),
        probe: { command: ['/bin/true'], intervalSeconds: 1, timeoutSeconds: 1 },
      }),
    );
    // As the BOSH job runs it (bpm.yml.erb): node's flags, open files limited, stdout read.
    const agent = execa(
      'sh',
      asDeployed(BIN, ['serve', '--config', config]),
      { reject: false },
    );
    try {
      const [, url] = await waitForOutput(agent, /serving (http:\/\/127\.0\.0\.1:\d+)/);
      const authorization = `Basic ${Buffer.from('admin:metrics-pw').toString('base64')}`;
      const scrape = async (): Promise<string> => (await fetch(`${url!}/metrics`, { headers: { authorization } })).text();
      const probed = /^restore_watcher_postgresql_ready 1$/m;
      const restored = /^restore_watcher_latest_restore_state\{state="succeeded"\} 1$/m;
      await expect.poll(async () => ((t) => probed.test(t) && restored.test(t))(await scrape()), { timeout: 10_000 }).toBe(true);
      const text = await scrape();
      expect(text).toMatch(/^restore_watcher_latest_backup_state\{state="succeeded"\} 1$/m);
      expect(text).toMatch(/^restore_watcher_nodejs_active_handles\{type="\w+"\} \d+$/m);

      const check = await execa('promtool', ['check', 'metrics'], { input: text, reject: false, all: true });
      expect(check.all).toBe('');
      expect(check.exitCode).toBe(0);
    } finally {
      agent.kill('SIGTERM');
      await agent;
    }
  });

  it('promtool would fail a gauge named like a counter', async () => {
    const bad = '# HELP x_active_total Active things.\n# TYPE x_active_total gauge\nx_active_total 1\n';
    const check = await execa('promtool', ['check', 'metrics'], { input: bad, reject: false, all: true });
    expect(check.exitCode).not.toBe(0);
    expect(check.all).toContain('non-counter metrics should not have "_total" suffix');
  });
});
