import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { asDeployed } from '../helpers/as-deployed.js';
import { BIN } from '../helpers/cli.js';
import { waitForOutput } from '../helpers/output.js';
import { appendRubyLog, backupSteps, haveRubyRack, restoreSteps } from '../helpers/ruby-log.js';
import { SLOW } from '../helpers/watch.js';

let agent: ResultPromise | null = null;
afterEach(async () => {
  agent?.kill('SIGKILL');
  await agent?.catch(() => undefined);
  agent = null;
});

// A hook as an operator writes one: a shell script that keeps what it was given.
const HOOK = `#!/bin/sh
set -eu
out="$1"
cat > "$out/event-$RESTORE_WATCHER_EVENT_ID.json"
echo "$RESTORE_WATCHER_EVENT_ID $RESTORE_WATCHER_EVENT $RESTORE_WATCHER_OPERATION_ID $RESTORE_WATCHER_STATE" >> "$out/calls"
echo "\${RESTORE_WATCHER_FORGOTTEN_BASIS-} \${RESTORE_WATCHER_FORGOTTEN_BACKUPS-}" > "$out/forgotten-$RESTORE_WATCHER_EVENT_ID"
echo "notified about $RESTORE_WATCHER_OPERATION_ID"
`;

/** The agent as the BOSH job runs it: its node flags, 1024 open files, stdout consumed. */
async function startAgent(config: string): Promise<{ url: string; child: ResultPromise }> {
  const child = execa('sh', asDeployed(BIN, ['serve', '--config', config]), {
    reject: false,
    buffer: true,
  });
  const [, url] = await waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/);
  return { url: url!, child };
}

const metric = async (url: string, name: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
};

describe.skipIf(!haveRubyRack())('hooks across a kill -9 of the agent', () => {
  it('run once for every restore or backup that ended, those that ended while the agent was down included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-hooks-'));
    const out = join(dir, 'out');
    const log = join(dir, 'production.log');
    const hook = join(dir, 'notify.sh');
    mkdirSync(out);
    writeFileSync(hook, HOOK);
    chmodSync(hook, 0o755);
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ log: { path: log }, http: { port: 0 }, stateDir: join(dir, 'state'), hooks: { commands: [[hook, out]], timeoutSeconds: 10 } }),
    );
    writeFileSync(log, '');
    const calls = (): string[] => (existsSync(join(out, 'calls')) ? readFileSync(join(out, 'calls'), 'utf8').trimEnd().split('\n') : []);

    let a = await startAgent(config);
    agent = a.child;
    await appendRubyLog(log, backupSteps(new Date('2018-11-22T04:00:15Z'), 75));
    await expect.poll(calls, SLOW).toHaveLength(1);
    expect(calls()[0]).toMatch(/^\d+ backup\.succeeded backup-20181122T040015Z succeeded$/);
    // The kill comes once the ledger says the hook has run (a kill during a run would run it again).
    const ledger = (): number => {
      try {
        return (JSON.parse(readFileSync(join(dir, 'state', 'hooks.json'), 'utf8')) as { lastEventId: number }).lastEventId;
      } catch {
        return -1;
      }
    };
    await expect.poll(ledger, SLOW).toBe(Number(calls()[0]!.split(' ')[0]));

    // kill -9, and while the agent is down: a backup, a restore of the first one, another backup.
    a.child.kill('SIGKILL');
    await a.child;
    await appendRubyLog(log, [
      ...backupSteps(new Date('2018-11-22T05:00:00Z'), 60),
      ...restoreSteps(new Date('2018-11-22T09:30:00Z'), 150, 'a9s-pg-1542859215350'),
      ...backupSteps(new Date('2018-11-22T10:00:00Z'), 60),
    ]);

    a = await startAgent(config);
    agent = a.child;
    await expect.poll(calls, SLOW).toHaveLength(4);
    await expect.poll(() => metric(a.url, 'restore_watcher_hook_runs_total'), SLOW).toBe(3);
    expect(calls().slice(1).map((l) => l.split(' ').slice(1).join(' '))).toEqual([
      'backup.succeeded backup-20181122T050000Z succeeded',
      'restore.succeeded restore-20181122T093000Z succeeded',
      'backup.succeeded backup-20181122T100000Z succeeded',
    ]);
    // The restore's hook is told which backups the Backup Manager no longer knows.
    const restoreEnd = calls()[2]!.split(' ')[0]!;
    expect(readFileSync(join(out, `forgotten-${restoreEnd}`), 'utf8')).toBe(`named a9s-pg-${Date.parse('2018-11-22T05:00:00Z') + 350}\n`);
    // Each hook got its event on stdin, the same the agent serves.
    const events = ((await (await fetch(`${a.url}/events?type=restore.succeeded`)).json()) as { events: { id: number }[] }).events;
    const given = JSON.parse(readFileSync(join(out, `event-${events[0]!.id}.json`), 'utf8')) as { id: number; operation: { id: string } };
    expect(given).toEqual(events[0]);
    expect(readdirSync(out).filter((f) => f.startsWith('event-'))).toHaveLength(4);

    // A clean restart runs nothing again: the next hook to run is the next backup's.
    a.child.kill('SIGTERM');
    await a.child;
    a = await startAgent(config);
    agent = a.child;
    await appendRubyLog(log, backupSteps(new Date('2018-11-22T11:00:00Z'), 60));
    await expect.poll(calls, SLOW).toHaveLength(5);
    expect(calls()[4]).toMatch(/ backup\.succeeded backup-20181122T110000Z succeeded$/);
    expect(await metric(a.url, 'restore_watcher_hook_runs_total')).toBe(1);
    expect(await metric(a.url, 'restore_watcher_hook_failures_total')).toBe(0);

    // What the hook printed is in the agent's log.
    a.child.kill('SIGTERM');
    const result = await a.child;
    const lines = String(result.stdout).split('\n').filter((l) => l.includes('hook ran'));
    expect(lines.map((l) => (JSON.parse(l) as { output: string }).output)).toEqual(['notified about backup-20181122T110000Z']);
  });
});
