import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { access } from '../helpers/lines.js';
import { execa } from 'execa';
import { BIN, cli } from '../helpers/cli.js';
import { waitForOutput } from '../helpers/output.js';
import { haveTool, nobodyReachesCheckout } from '../helpers/tools.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'rw-cli-'));

describe('serve', () => {
  it('serves a log and exits 0 on SIGTERM', async () => {
    const dir = tmp();
    const log = join(dir, 'production.log');
    writeFileSync(log, `${access('12:00:00', '/v1/restore')}\n`);
    const child = cli(['serve', '--log', log, '--port', '0', '--state-dir', join(dir, 'state')]);
    const [, url] = await waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/);
    await expect.poll(async () => ((await (await fetch(`${url}/status`)).json()) as { state: string }).state).toBe(
      'restore-requested',
    );
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain('SIGTERM: shutting down');
  });

  it('rejects a bad flag value with the flag named, as a usage error, not a stack trace', async () => {
    const r = await cli(['serve', '--port', 'eighty', '--state-dir', tmp()]);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toBe('restore-watcher: --port: expected a port number 0–65535, got "eighty"');
    expect(r.stderr).not.toContain('    at ');
  });

  it('says plainly when the port is taken', async () => {
    const dir = tmp();
    const first = cli(['serve', '--log', join(dir, 'a.log'), '--port', '0', '--state-dir', join(dir, 's1')]);
    const [, port] = await waitForOutput(first, /serving http:\/\/127\.0\.0\.1:(\d+)/);
    const second = await cli(['serve', '--log', join(dir, 'a.log'), '--port', port!, '--state-dir', join(dir, 's2')]);
    first.kill('SIGTERM');
    await first;
    expect(second.exitCode).toBe(69);
    expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
  });

  it('says plainly when the state directory cannot be made', async () => {
    const r = await cli(['serve', '--log', join(tmp(), 'a.log'), '--port', '0', '--state-dir', '/dev/null/state']);
    expect(r.exitCode).toBe(73);
    expect(r.stderr).toMatch(/^restore-watcher: state directory \/dev\/null\/state: ENOTDIR/m);
    expect(r.stderr).not.toContain('    at ');
  });

  it('refuses a log path that is a directory at once, in one line, instead of looking healthy', async () => {
    const dir = tmp();
    const r = await cli(['serve', '--log', dir, '--port', '0', '--state-dir', join(dir, 'state')], { timeout: 15_000 });
    expect(r.exitCode).toBe(66);
    expect(r.stderr).toBe(`restore-watcher: ${dir}: is a directory; --log (log.path) names the log file itself, e.g. ${join(dir, 'production.log')}`);
    expect(r.stdout).toBe('');
  });

  it.skipIf(!haveTool('setpriv', 'util-linux') || !nobodyReachesCheckout())('suggests --state-dir when the default state directory cannot be made by this user', async () => {
    const dir = tmp();
    const args = [process.execPath, BIN, 'serve', '--log', join(dir, 'production.log'), '--port', '0'];
    // Run as nobody, as an operator trying the agent on a workstation would (not root).
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...args] : args;
    const r = await execa(asUser[0]!, asUser.slice(1), { reject: false, timeout: 15_000 });
    expect(r.exitCode).toBe(73);
    expect(r.stderr).toMatch(/^restore-watcher: state directory \/var\/vcap\/data\/restore-watcher: EACCES.*give --state-dir DIR/);
    expect(r.stderr.split('\n')).toHaveLength(1);
  });

  it('logs JSON when stdout is not a terminal, pretty lines when asked, and refuses another format', async () => {
    const dir = tmp();
    const run = async (extra: string[]): Promise<string> => {
      const child = cli(['serve', '--log', join(dir, 'production.log'), '--port', '0', '--state-dir', join(dir, 'state'), ...extra]);
      await waitForOutput(child, /restore-watcher listening/);
      child.kill('SIGTERM');
      return String((await child).stdout);
    };
    const json = (await run([])).split('\n').filter((l) => l !== '');
    expect(json.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('restore-watcher listening');
    const pretty = await run(['--log-format', 'pretty']);
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: restore-watcher listening \{"address":"http:\/\/127\.0\.0\.1:\d+"/m);
    expect(pretty).not.toContain('"level"');
    expect(pretty).not.toContain('\x1b[');
    const bad = await cli(['serve', '--log-format', 'yaml', '--state-dir', dir]);
    expect([bad.exitCode, bad.stderr]).toEqual([64, 'restore-watcher: --log-format: expected pretty or json, got "yaml"']);
  });

  it('explains itself with --help', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('--state-dir DIR');
    expect(r.stdout).toContain('RESTORE_WATCHER_PASSWORD');
  });
});

describe('check-config', () => {
  const write = (content: string): string => {
    const file = join(tmp(), 'config.json');
    writeFileSync(file, content);
    return file;
  };

  it('prints ok for a partial valid file', async () => {
    const r = await cli(['check-config', write('{"http": {"port": 8080}, "log": {"timezone": "Europe/Berlin"}}')]);
    expect([r.exitCode, r.stdout]).toEqual([0, 'ok']);
  });

  it('lists every problem, naming the key and what was expected', async () => {
    const r = await cli([
      'check-config',
      write('{"http": {"port": "x", "colour": 1}, "log": {"timezone": "Mars/Olympus"}, "extra": true}'),
    ]);
    expect(r.exitCode).toBe(1);
    const out = String(r.stdout);
    expect(out).toMatch(/http\.port: .*number/);
    expect(out).toContain('http.colour: unknown key');
    expect(out).toMatch(/log\.timezone: expected an IANA time zone/);
    expect(out).toContain('extra: unknown key');
  });

  it('reports a file that is not JSON', async () => {
    const r = await cli(['check-config', write('{"http": ')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/not valid JSON/);
  });

  it('reports a missing file', async () => {
    const r = await cli(['check-config', '/nonexistent/config.json']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('/nonexistent/config.json: no such file');
  });
});

describe('demo', () => {
  it('serves a simulated restore that succeeds, then one that fails, and stops on SIGINT', async () => {
    const child = cli(['demo', '--port', '0', '--pace', '0']);
    const [, url] = await waitForOutput(child, /served on (http:\/\/127\.0\.0\.1:\d+)/);
    await expect
      .poll(async () => ((await (await fetch(`${url}/restores`)).json()) as { restores: Array<{ state: string }> }).restores.map((r) => r.state))
      .toEqual(['failed', 'succeeded']);
    // Written all at once, the story keeps its gaps: the agent's start-up message is not the first restore's.
    const restores = ((await (await fetch(`${url}/restores`)).json()) as { restores: Array<{ id: string }> }).restores;
    const first = (await (await fetch(`${url}/restores/${restores[1]!.id}`)).json()) as { events: Array<{ message?: string }> };
    const messages = first.events.map((e) => e.message ?? '');
    expect(messages.some((m) => m.includes('downloading backup'))).toBe(true);
    expect(messages.filter((m) => m.includes('backup-agent started'))).toEqual([]);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toContain('curl -N');
  });
});
