/**
 * Every command the README shows is exercised: the ones that run here run for
 * real against a real agent (paths and ports substituted), and their output is
 * compared with what the README shows; the ones that need a BOSH director or
 * CredHub name the test that exercises what they act on. A command added to the
 * README without an entry here fails the suite.
 */
import { execa } from 'execa';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, fixture } from '../helpers/cli.js';
import { logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { haveTool } from '../helpers/tools.js';
import { SLOW } from '../helpers/watch.js';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PASSWORD = 'readme-example-password';

interface Block {
  lang: string;
  body: string;
}

/** The README's fenced blocks, in order. */
function blocks(): Block[] {
  return [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** Each command of the README's `sh` blocks, without its trailing comment. */
function shownCommands(): string[] {
  return blocks()
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.split('\n'))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The block shown right after the `sh` block holding `command`. */
function outputShownAfter(command: string): string {
  const all = blocks();
  const at = all.findIndex((b) => b.lang === 'sh' && b.body.includes(command));
  expect(at, `README shows ${command}`).toBeGreaterThanOrEqual(0);
  return all[at + 1]!.body;
}

/** A command that needs what this machine does not have, and the test that exercises what it acts on. */
const ELSEWHERE: Record<string, { test: string; mentions: string }> = {
  'npm ci && npx restore-watcher demo': { test: 'test/integration/cli-serve.test.ts', mentions: "'demo'" },
  'npm ci && npm test': { test: '.ci/run', mentions: 'npm test' },
  'npm ci && npm run bosh:build': { test: 'test/bosh/smoke.test.ts', mentions: 'bosh-build.sh' },
  '(cd bosh-job && bosh create-release --force --tarball /tmp/restore-watcher.tgz)': { test: 'test/bosh/release.test.ts', mentions: 'packaging' },
  'bosh upload-release /tmp/restore-watcher.tgz': { test: 'test/bosh/release.test.ts', mentions: 'packaging' },
  'bosh -d a9s-pg manifest > a9s-pg.yml': { test: 'test/bosh/release.test.ts', mentions: 'add-restore-watcher.yml' },
  'bosh -d a9s-pg deploy a9s-pg.yml -o bosh-job/manifests/add-restore-watcher.yml': { test: 'test/bosh/release.test.ts', mentions: 'add-restore-watcher.yml' },
  'export RESTORE_WATCHER_PASSWORD=$(credhub get -n /DIRECTOR/a9s-pg/restore_watcher_password -q)': { test: 'test/integration/watch-terminal.test.ts', mentions: 'RESTORE_WATCHER_PASSWORD' },
  'restore-watcher watch': { test: 'test/integration/watch-terminal.test.ts', mentions: 'tmux' },
  'npm ci': { test: '.ci/run', mentions: 'npm ci' },
  'npm test': { test: '.ci/run', mentions: 'npm test' },
  'npm run test:long': { test: '.ci/run', mentions: 'npm run test:long' },
  'npm run faults': { test: '.ci/run', mentions: 'npm run faults' },
  'npm run typecheck': { test: 'package.json', mentions: '"typecheck"' },
  'npm run bench': { test: 'package.json', mentions: '"bench"' },
};

/** Commands run here, each by a test below. */
const RUN_HERE = [
  'restore-watcher watch --until-done && run-checks',
  "curl -s -u admin:$RESTORE_WATCHER_PASSWORD http://127.0.0.1:9465/status | jq '{state, lastRestore}'",
  'curl -N -u admin:$RESTORE_WATCHER_PASSWORD http://127.0.0.1:9465/events/stream',
  'restore-watcher replay /var/vcap/sys/log/backup-agent/production.log',
];

/** Runs a README command in bash with `restore-watcher` being this checkout's build. */
function shell(command: string, env: Record<string, string> = {}) {
  const prelude = `restore-watcher() { "${process.execPath}" "${BIN}" "$@"; }\nrun-checks() { echo checks-ran; }\n`;
  return execa('bash', ['-c', prelude + command], { reject: false, env: { ...process.env, ...env } });
}

describe('the README', () => {
  it('shows only commands that are exercised', () => {
    const unexercised = shownCommands().filter((c) => !(c in ELSEWHERE) && !RUN_HERE.includes(c));
    expect(unexercised).toEqual([]);
    for (const [command, { test, mentions }] of Object.entries(ELSEWHERE)) {
      expect(shownCommands(), `ELSEWHERE lists a command the README no longer shows: ${command}`).toContain(command);
      expect(existsSync(join(ROOT, test)), test).toBe(true);
      expect(readFileSync(join(ROOT, test), 'utf8'), `${test} exercises ${command}`).toContain(mentions);
    }
    for (const command of RUN_HERE) expect(shownCommands()).toContain(command);
  });

  it('replay of a log prints what the README shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-readme-'));
    const log = join(dir, 'production.log');
    copyFileSync(fixture('restore-failed-backtrace.log'), log);
    const command = RUN_HERE[3]!;
    const r = await shell(command.replace('/var/vcap/sys/log/backup-agent/production.log', log));
    expect(r.exitCode).toBe(0);
    const shown = outputShownAfter(command).replaceAll('/var/vcap/sys/log/backup-agent/production.log', log);
    expect(`${r.stdout}\n`.trimStart()).toBe(shown);
  });
});

describe.skipIf(!haveTool('curl', 'curl') || !haveTool('jq', 'jq'))('the README against a real agent', () => {
  let service: TestService;
  const here = (command: string): string => command.replaceAll('http://127.0.0.1:9465', service.url);

  beforeAll(async () => {
    // The failure is told once the grace for a success has passed: a second here.
    service = await startTestService({ auth: { password: PASSWORD }, track: { rules: { failureGraceSeconds: 1 } } });
    copyFileSync(fixture('restore-failed-backtrace.log'), service.logPath);
    await vi.waitFor(() => expect(service.agent.status().restore?.state).toBe('failed'), SLOW);
  });
  afterAll(async () => service?.dispose());

  it('curl /status | jq shows what the README shows', async () => {
    const r = await shell(here(RUN_HERE[1]!), { RESTORE_WATCHER_PASSWORD: PASSWORD });
    expect(r.exitCode).toBe(0);
    const got = JSON.parse(r.stdout) as { lastRestore: { failure: string } };
    const shown = JSON.parse(outputShownAfter(RUN_HERE[1]!)) as { lastRestore: { failure: string } };
    // The README cuts the failure's backtrace short with an ellipsis.
    const [failureHead] = shown.lastRestore.failure.split('\n');
    expect(got.lastRestore.failure.startsWith(`${failureHead}\n`)).toBe(true);
    const head = <T extends { lastRestore: object }>(o: T): T => ({ ...o, lastRestore: { ...o.lastRestore, failure: failureHead } });
    expect(head(got)).toEqual(head(shown));
  });

  it('curl -N /events/stream follows the events', async () => {
    const r = await shell(`${here(RUN_HERE[2]!)} --max-time 1`, { RESTORE_WATCHER_PASSWORD: PASSWORD });
    expect(r.exitCode).toBe(28); // curl's "operation timed out": the stream stays open
    expect(r.stdout).toContain('event: restore.requested');
    expect(r.stdout).toContain('event: restore.failed');
  });
});

describe('watch --until-done && run-checks, as the README shows it', () => {
  let service: TestService;
  afterAll(async () => service?.dispose());

  it('runs the checks once the restore succeeded', async () => {
    service = await startTestService();
    copyFileSync(fixture('restore-running-at-eof.log'), service.logPath);
    await expect.poll(() => service.agent.status().state, SLOW).toBe('restore-running');
    const run = shell(RUN_HERE[0]!.replace(' watch ', ` watch --url ${service.url} `));
    await expect.poll(() => service.server.streams.size, SLOW).toBe(1);
    appendFileSync(service.logPath, `${logger('15:01:00', 'success')}\n`);
    const r = await run;
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('checks-ran');
  });
});
