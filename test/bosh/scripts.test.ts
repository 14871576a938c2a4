import { execa } from 'execa';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool } from '../helpers/tools.js';
import { boshFixture, JOB, RELEASE, renderOrThrow, REPO } from './release.js';

const scratch = mkdtempSync(join(tmpdir(), 'rw-scripts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `monit -t` on a control file that includes `included`; monit insists on mode 0600. */
async function monitCheck(included: string) {
  const control = join(scratch, `monitrc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(control, `set daemon 30\ninclude ${included}\n`);
  chmodSync(control, 0o600);
  return execa('monit', ['-t', '-c', control], { reject: false, all: true });
}

describe.skipIf(!haveTool('monit', 'monit') || !haveTool('ruby', 'ruby'))('the monit file', () => {
  it('passes monit -t as the director renders it', async () => {
    const rendered = join(scratch, 'monit');
    writeFileSync(rendered, `${await renderOrThrow('monit', { properties: boshFixture('password-only.yml') })}\n`);
    const r = await monitCheck(rendered);
    expect(r.all).toContain('Control file syntax OK');
    expect(r.exitCode).toBe(0);
  });

  it('is the standard bpm form', () => {
    expect(readFileSync(join(JOB, 'monit'), 'utf8')).toBe(
      [
        'check process restore-watcher',
        '  with pidfile /var/vcap/sys/run/bpm/restore-watcher/restore-watcher.pid',
        '  start program "/var/vcap/jobs/bpm/bin/bpm start restore-watcher"',
        '  stop program "/var/vcap/jobs/bpm/bin/bpm stop restore-watcher"',
        '  group vcap',
        '',
      ].join('\n'),
    );
  });

  it('would be caught if it were broken', async () => {
    const broken = join(scratch, 'broken-monit');
    writeFileSync(broken, 'check process restore-watcher\n  with pidfile\n');
    const r = await monitCheck(broken);
    expect(r.exitCode).not.toBe(0);
  });
});

/** Every shell script of the release and its build, the job's templates as rendered. */
async function shellScripts(): Promise<Map<string, string>> {
  const scripts = new Map<string, string>();
  for (const pkg of readdirSync(join(RELEASE, 'packages'))) {
    const path = join(RELEASE, 'packages', pkg, 'packaging');
    scripts.set(`packages/${pkg}/packaging`, readFileSync(path, 'utf8'));
  }
  for (const name of readdirSync(join(REPO, 'scripts')).filter((n) => n.endsWith('.sh'))) {
    scripts.set(`scripts/${name}`, readFileSync(join(REPO, 'scripts', name), 'utf8'));
  }
  const templates = readdirSync(join(JOB, 'templates'), { withFileTypes: true }).filter((e) => e.isFile());
  for (const { name: template } of templates) {
    const source = readFileSync(join(JOB, 'templates', template), 'utf8');
    if (!source.startsWith('#!/usr/bin/env bash')) continue;
    for (const fixture of ['password-only.yml', 'overrides.yml']) {
      scripts.set(`${template} (${fixture})`, await renderOrThrow(template, { properties: boshFixture(fixture) }));
    }
  }
  return scripts;
}

describe.skipIf(!haveTool('shellcheck', 'shellcheck') || !haveTool('ruby', 'ruby'))('shell scripts', () => {
  it('pass shellcheck: packaging, the build script and the rendered pre-start', async () => {
    const scripts = await shellScripts();
    expect([...scripts.keys()]).toEqual(
      expect.arrayContaining([
        'packages/node/packaging',
        'packages/restore-watcher/packaging',
        'scripts/bosh-build.sh',
        'pre-start.erb (password-only.yml)',
        'pre-start.erb (overrides.yml)',
      ]),
    );
    const findings: string[] = [];
    for (const [name, text] of scripts) {
      const r = await execa('shellcheck', ['--shell=bash', '--format=gcc', '-'], { input: text, reject: false });
      if (r.exitCode !== 0) findings.push(`${name}:\n${String(r.stdout)}`);
    }
    expect(findings).toEqual([]);
  });

  it('would report a script that shellcheck faults', async () => {
    const r = await execa('shellcheck', ['--shell=bash', '-'], { input: '#!/usr/bin/env bash\nrm -rf $1/*\n', reject: false });
    expect(r.exitCode).not.toBe(0);
  });
});
