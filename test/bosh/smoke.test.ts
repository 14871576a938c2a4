import { execa, type ResultPromise } from 'execa';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { waitForOutput } from '../helpers/output.js';
import { haveTool } from '../helpers/tools.js';
import { NODE_VERSION, readYaml, RELEASE, render, REPO, runPreStart, vcapRoot, type VcapRoot } from './release.js';

/**
 * The release as a VM gets it: `npm run bosh:build` (a cached node blob is
 * reused), each package compiled the way the BOSH director does (the spec's
 * `files` copied into a fresh directory, `packaging` run there with
 * BOSH_INSTALL_TARGET), then the agent run by the packaged Node.js with the
 * executable and arguments bpm.yml gives it.
 */

const BUILD_TIMEOUT_MS = 240_000;
const PASSWORD = 'smoke-test-password';

/** BOSH's `files` globs: `*` within a path segment, `**` across segments. */
function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** A hard link where the file system allows one (the node_modules tree is thousands of files), else a copy. */
function stageFile(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to);
  }
}

/** Compiles one package of the release into `packages/NAME`, as the director would. */
async function compilePackage(name: string, packages: string, scratch: string): Promise<void> {
  const spec = await readYaml<{ files: string[] }>(join(RELEASE, 'packages', name, 'spec'));
  const compileDir = join(scratch, `compile-${name}`);
  const sources = [join(RELEASE, 'src'), join(RELEASE, 'blobs')].map((base) => ({ base, files: filesUnder(base) }));
  const staged = new Set<string>();
  for (const glob of spec.files) {
    const pattern = globToRegExp(glob);
    const matches = sources.flatMap(({ base, files }) => files.filter((f) => pattern.test(f)).map((f) => ({ base, f })));
    // create-release refuses a pattern that matches nothing; so do we.
    if (matches.length === 0) throw new Error(`package ${name}: no file matches ${glob}`);
    for (const { base, f } of matches.filter(({ f }) => !staged.has(f))) {
      staged.add(f);
      mkdirSync(dirname(join(compileDir, f)), { recursive: true });
      stageFile(join(base, f), join(compileDir, f));
    }
  }
  const target = join(packages, name);
  mkdirSync(target, { recursive: true });
  await execa('bash', [join(RELEASE, 'packages', name, 'packaging')], {
    cwd: compileDir,
    env: { BOSH_INSTALL_TARGET: target, BOSH_COMPILE_TARGET: compileDir, BOSH_PACKAGE_NAME: name },
  });
  rmSync(compileDir, { recursive: true, force: true });
}

interface BpmProcess {
  executable: string;
  args: string[];
  env?: Record<string, string>;
}

describe.skipIf(!haveTool('ruby', 'ruby'))('the packaged agent', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'rw-smoke-'));
  const packages = join(scratch, 'packages');
  const vcaps: VcapRoot[] = [];
  const children: ResultPromise[] = [];

  beforeAll(async () => {
    await execa(join(REPO, 'scripts', 'bosh-build.sh'), [], { cwd: REPO });
    await compilePackage('node', packages, scratch);
    await compilePackage('restore-watcher', packages, scratch);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children);
    for (const vcap of vcaps) rmSync(vcap.root, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("installs the pinned Node.js, not this machine's", async () => {
    const packagedNode = join(packages, 'node', 'bin', 'node');
    expect(realpathSync(packagedNode)).not.toBe(realpathSync(process.execPath));
    const r = await execa(packagedNode, ['--version']);
    expect(r.stdout).toBe(`v${NODE_VERSION}`);
  });

  it('passes pre-start with the packaged Node.js and agent', async () => {
    const vcap = await vcapRoot({ properties: { restore_watcher: { auth: { password: PASSWORD } } }, packages });
    vcaps.push(vcap);
    const r = await runPreStart(vcap);
    expect(r.stderr).not.toContain('valid config');
    expect(r.stdout).toContain('restore-watcher pre-start: config ok');
    expect(r.exitCode).toBe(0);
  });

  /** Starts the agent as bpm would: bpm.yml's executable and args, bpm's bare environment. */
  async function startAgent(): Promise<{ url: string; child: ResultPromise }> {
    const logDir = mkdtempSync(join(scratch, 'backup-agent-'));
    copyFileSync(fixture('seed-sample.log'), join(logDir, 'production.log'));
    // The log at its default path below /var/vcap, the only place bpm can mount it from.
    const properties = { restore_watcher: { auth: { password: PASSWORD }, http: { host: '127.0.0.1', port: 0 } } };
    // On a VM the state directory is bpm's mount of /var/vcap/data/restore-watcher, and
    // the log's directory bpm's mount of /var/vcap/sys/log/backup-agent.
    const stateDir = join(logDir, 'state');
    const log = { path: join(logDir, 'production.log') };
    const vcap = await vcapRoot({
      properties,
      packages,
      adjustConfig: (config) => ({ ...config, stateDir, log: { ...config.log, ...log } }),
    });
    vcaps.push(vcap);
    const bpm = await render('bpm.yml.erb', { properties, yamlToJson: true });
    expect(bpm.error).toBe('');
    const agent = (JSON.parse(bpm.text) as { processes: BpmProcess[] }).processes[0]!;
    const onVm = (arg: string): string => (arg.startsWith('/var/vcap/') ? vcap.onVm(arg) : arg);
    const child = execa(onVm(agent.executable), agent.args.map(onVm), {
      extendEnv: false,
      env: { ...agent.env, PATH: '/usr/bin:/bin', TMPDIR: scratch },
      reject: false,
    });
    children.push(child);
    const [, url] = await waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/);
    return { url: url!, child };
  }

  it('runs as bpm would run it, serves /healthz, and stops on SIGTERM', async () => {
    const { url, child } = await startAgent();
    await expect
      .poll(async () => (await fetch(`${url}/healthz`)).json(), { timeout: 15_000, interval: 100 })
      .toMatchObject({ ok: true, logExists: true });
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain('SIGTERM: shutting down');
  });

  it('answers /status only with the password from the job properties', async () => {
    const { url } = await startAgent();
    expect((await fetch(`${url}/status`)).status).toBe(401);
    const authorization = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    expect((await fetch(`${url}/status`, { headers: { authorization } })).status).toBe(200);
  });
});
