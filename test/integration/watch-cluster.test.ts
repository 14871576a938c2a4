import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { waitForOutput } from '../helpers/output.js';
import { appendRubyLog, haveRubyRack, restoreSteps } from '../helpers/ruby-log.js';
import { SLOW, startWatch } from '../helpers/watch.js';

interface Vm {
  child: ReturnType<typeof cli>;
  url: string;
  log: string;
}

const vms: Vm[] = [];
afterEach(async () => {
  for (const vm of vms.splice(0)) {
    vm.child.kill('SIGTERM');
    await vm.child;
  }
});

/** One VM's agent: `serve` on port 0 with a log and a state directory of its own. */
async function startVm(): Promise<Vm> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-vm-'));
  const log = join(dir, 'production.log');
  const child = cli(['serve', '--log', log, '--port', '0', '--state-dir', join(dir, 'state')]);
  const [, url] = await waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/);
  const vm = { child, url: url!, log };
  vms.push(vm);
  return vm;
}

const streamClients = async (vm: Vm): Promise<number> =>
  ((await (await fetch(`${vm.url}/status`, { headers: { accept: 'application/json' } })).json()) as { streams: { clients: number } }).streams.clients;

const restoreState = async (vm: Vm): Promise<string | undefined> =>
  ((await (await fetch(`${vm.url}/status`, { headers: { accept: 'application/json' } })).json()) as { restore: { state: string } | null }).restore?.state;

describe.skipIf(!haveRubyRack())('watch with one --url per VM of a cluster', () => {
  it('shows the restore on the VM where it happens, says which, and exits with its outcome', async () => {
    const [a, b, c] = [await startVm(), await startVm(), await startVm()];
    // A was master a week ago and restored then; B is master now; C never saw a restore.
    await appendRubyLog(a.log, restoreSteps(new Date('2018-11-13T09:00:00Z'), 120, null));
    await expect.poll(() => restoreState(a), SLOW).toBe('succeeded');

    const run = startWatch(['--url', a.url, '--url', b.url, '--url', c.url, '--until-done']);
    for (const vm of [a, b, c]) await expect.poll(() => streamClients(vm), SLOW).toBe(1);
    await expect.poll(() => run.stderr(), SLOW).toContain(`the latest restore, restore-20181113T090000Z, succeeded on ${a.url}\n`);
    expect(run.stderr()).toContain(`restore-watcher: ${a.url}: restore-20181113T090000Z had already ended before watch started`);

    const steps = restoreSteps(new Date('2018-11-20T12:00:00Z'), 90, 'a9s-pg-1542859215559');
    await appendRubyLog(b.log, steps.slice(0, -2));
    await expect.poll(() => run.stderr(), SLOW).toContain(`restore-watcher: restore-20181120T120000Z is running on ${b.url}, the master\n`);
    await appendRubyLog(b.log, steps.slice(-2));
    const r = await run.child;
    expect(r.exitCode).toBe(0);
    expect(run.stderr()).toContain(`restore-watcher: ${b.url}: restore-20181120T120000Z succeeded in 1m30s`);
    const lines = run.stdout().trimEnd().split('\n');
    // A's old restore, then B's: each line says which agent it came from.
    expect(lines[0]).toMatch(new RegExp(`^${a.url}  2018-11-13 09:00:00Z  restore-20181113T090000Z  requested`));
    expect(lines.filter((l) => l.includes('restore-20181120T120000Z')).every((l) => l.startsWith(`${b.url}  `))).toBe(true);
    expect(lines.at(-1)).toBe(`${b.url}  2018-11-20 12:01:30Z  restore-20181120T120000Z  succeeded  success`);
    expect(lines.some((l) => l.startsWith(c.url))).toBe(false);
  });

  it('refuses the same agent twice', async () => {
    const r = await cli(['watch', '--url', 'http://127.0.0.1:9465', '--url', 'http://127.0.0.1:9465/']);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toBe('restore-watcher: --url: 127.0.0.1:9465/ is given twice');
  });
});
