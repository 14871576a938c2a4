import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { defaultConfig } from '../../src/defaults.js';
import { JOB_NODE_FLAGS } from '../helpers/as-deployed.js';
import { cli } from '../helpers/cli.js';
import { haveTool } from '../helpers/tools.js';
import { boshFixture, JOB, readYaml, render, renderConfig, renderOrThrow } from './release.js';

interface JobSpec {
  templates: Record<string, string>;
  properties: Record<string, { description?: string; default?: unknown }>;
}

interface BpmVolume {
  path: string;
  writable?: boolean;
  mount_only?: boolean;
}

interface BpmProcess {
  name: string;
  executable: string;
  args: string[];
  env?: Record<string, string>;
  ephemeral_disk?: boolean;
  persistent_disk?: boolean;
  additional_volumes?: BpmVolume[];
  unsafe?: { unrestricted_volumes?: BpmVolume[] };
  capabilities?: string[];
  limits?: { memory?: string; open_files?: number };
}

const JOB_DIR_ON_VM = '/var/vcap/jobs/restore-watcher';

/**
 * Why bpm (v1.1.7 and later, config.ProcessConfig.Validate) would refuse an additional volume,
 * or undefined: the path must be canonical (Go's filepath.Clean leaves it unchanged), lie
 * strictly below /var/vcap, and not be the job's own data or store directory.
 */
function bpmVolumeProblem(path: string, job: string): string | undefined {
  const cleaned = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (cleaned !== path) return `volume path must be canonical, expected ${cleaned} but got ${path}`;
  if ([`/var/vcap/data/${job}`, `/var/vcap/store/${job}`].includes(path)) return `${path} conflicts with the job's data or store`;
  if (!path.startsWith('/var/vcap/') || path === '/var/vcap/') return `${path} must be within /var/vcap`;
  return undefined;
}
const PASSWORD_ONLY = boshFixture('password-only.yml');
const OVERRIDES = boshFixture('overrides.yml');

async function renderBpm(properties: string): Promise<BpmProcess> {
  const bpm = JSON.parse(await renderOrThrow('bpm.yml.erb', { properties, yamlToJson: true })) as {
    processes: BpmProcess[];
  };
  expect(bpm.processes).toHaveLength(1);
  return bpm.processes[0]!;
}

const scratch = mkdtempSync(join(tmpdir(), 'rw-templates-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function checkConfig(config: unknown): Promise<{ exitCode: number | undefined; output: string }> {
  const file = join(scratch, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const r = await cli(['check-config', file]);
  return { exitCode: r.exitCode, output: `${String(r.stdout)}${String(r.stderr)}` };
}

describe.skipIf(!haveTool('ruby', 'ruby'))('the restore-watcher job', { concurrent: true }, () => {
  it('declares every template it ships, and renders each with nothing but a password', async () => {
    const spec = await readYaml<JobSpec>(join(JOB, 'spec'));
    const shipped = readdirSync(join(JOB, 'templates'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => posix.join(posix.relative(join(JOB, 'templates'), entry.parentPath), entry.name));
    expect(Object.keys(spec.templates).sort()).toEqual(shipped.sort());
    for (const template of Object.keys(spec.templates)) {
      const r = await render(template, { properties: PASSWORD_ONLY });
      expect(r.error, template).toBe('');
      expect(r.ok, template).toBe(true);
    }
  });

  it('describes every property, and gives every one but the optional and the password a default', async () => {
    const spec = await readYaml<JobSpec>(join(JOB, 'spec'));
    const withoutDefault = Object.entries(spec.properties)
      .filter(([, definition]) => definition.default === undefined)
      .map(([name]) => name);
    expect(withoutDefault.sort()).toEqual([
      'restore_watcher.auth.password',
      'restore_watcher.hooks.script',
      'restore_watcher.http.tls.certificate',
      'restore_watcher.http.tls.private_key',
      'restore_watcher.probe.command',
    ]);
    for (const [name, definition] of Object.entries(spec.properties)) {
      expect(definition.description?.trim(), name).toMatch(/\S{3}/);
    }
  });
});

describe.skipIf(!haveTool('ruby', 'ruby'))('config.json.erb', { concurrent: true }, () => {
  it('renders the defaults into a config check-config accepts, differing from the agent only in bind address and password', async () => {
    const config = await renderConfig(PASSWORD_ONLY);
    expect(await checkConfig(config)).toEqual({ exitCode: 0, output: 'ok' });
    const agentDefaults = defaultConfig();
    expect(parseConfig(config)).toEqual({
      ...agentDefaults,
      http: { ...agentDefaults.http, host: '0.0.0.0' },
      auth: { username: 'admin', password: 'correct-horse-battery-staple' },
    });
    expect(config.http?.tls).toBeNull();
    expect(config.probe?.command).toBeNull();
  });

  it('carries every override into a config check-config accepts', async () => {
    const config = await renderConfig(OVERRIDES);
    expect(await checkConfig(config)).toEqual({ exitCode: 0, output: 'ok' });
    expect(config).toEqual({
      log: { path: '/var/vcap/sys/log/a9s-backup-agent/current.log', timezone: 'Europe/Berlin' },
      track: { stallAfterSeconds: 120 },
      http: {
        host: '127.0.0.1',
        port: 19465,
        maxStreamClients: 4,
        tls: {
          certFile: `${JOB_DIR_ON_VM}/config/tls/certificate.pem`,
          keyFile: `${JOB_DIR_ON_VM}/config/tls/private_key.pem`,
        },
      },
      auth: { username: 'operator', password: 'pa$$ "quoted" \'word\'' },
      stateDir: '/var/vcap/data/restore-watcher',
      journal: { maxEvents: 5000 },
      probe: {
        command: ['/var/vcap/packages/postgres/bin/pg_isready', '-h', '127.0.0.1', '-p', '5432'],
        intervalSeconds: 30,
        timeoutSeconds: 3,
      },
    });
  });

  it('points TLS at the files the certificate and key templates are rendered to', async () => {
    const spec = await readYaml<JobSpec>(join(JOB, 'spec'));
    const config = await renderConfig(OVERRIDES);
    const tls = config.http?.tls;
    expect(tls).toBeTruthy();
    expect(tls?.certFile).toBe(`${JOB_DIR_ON_VM}/${spec.templates['tls/certificate.pem.erb']}`);
    expect(tls?.keyFile).toBe(`${JOB_DIR_ON_VM}/${spec.templates['tls/private_key.pem.erb']}`);
    const certificate = await renderOrThrow('tls/certificate.pem.erb', { properties: OVERRIDES });
    const key = await renderOrThrow('tls/private_key.pem.erb', { properties: OVERRIDES });
    expect(certificate).toContain('-----BEGIN CERTIFICATE-----\nplaceholder certificate for template tests\n');
    expect(key).toContain('-----BEGIN PRIVATE KEY-----\nplaceholder key for template tests\n');
  });

  it('fails to render without a password, naming the property as the director does', async () => {
    const r = await render('config.json.erb', { properties: {} });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(
      /^Error filling in template 'config\.json\.erb' \(line \d+: Can't find property '\["restore_watcher\.auth\.password"\]'\)/,
    );
  });

  it('runs the hook script rendered to bin/hook when one is set, and no hook otherwise', async () => {
    const spec = await readYaml<JobSpec>(join(JOB, 'spec'));
    const script = '#!/bin/sh\ncurl -fsS -X POST --data-binary @- -H "Content-Type: application/json" https://chat.example.com/hook\n';
    const properties = { restore_watcher: { auth: { password: 'x' }, hooks: { script, timeout_seconds: 20 } } };
    const config = await renderConfig(properties);
    expect(await checkConfig(config)).toEqual({ exitCode: 0, output: 'ok' });
    expect(config.hooks).toEqual({ commands: [[`${JOB_DIR_ON_VM}/${spec.templates['hook.erb']}`]], onStall: false, timeoutSeconds: 20 });
    // (The renderer's output is read without its final newline.)
    expect(await renderOrThrow('hook.erb', { properties })).toBe(script.trimEnd());
    expect((await renderConfig(PASSWORD_ONLY)).hooks).toBeUndefined();
    expect(await renderOrThrow('hook.erb', { properties: PASSWORD_ONLY })).toMatch(/^#!\/bin\/sh\n[^]*\nexit 0$/);
  });

  it('fails to render a hook script without a #! line', async () => {
    const r = await render('hook.erb', { properties: { restore_watcher: { auth: { password: 'x' }, hooks: { script: 'curl https://x' } } } });
    expect(r.ok).toBe(false);
    expect(r.error).toContain('restore_watcher.hooks.script must start with a #! line');
  });

  it('fails to render a certificate without its key', async () => {
    const r = await render('config.json.erb', {
      properties: { restore_watcher: { auth: { password: 'x' }, http: { tls: { certificate: 'PEM' } } } },
    });
    expect(r.ok).toBe(false);
    expect(r.error).toContain('restore_watcher.http.tls.certificate and restore_watcher.http.tls.private_key go together');
  });

  it('treats an empty certificate and key as plain HTTP', async () => {
    const config = await renderConfig({
      restore_watcher: { auth: { password: 'x' }, http: { tls: { certificate: '', private_key: '' } } },
    });
    expect(config.http?.tls).toBeNull();
  });

  it('fails to render a relative log path', async () => {
    const r = await render('config.json.erb', {
      properties: { restore_watcher: { auth: { password: 'x' }, log: { path: 'production.log' } } },
    });
    expect(r.ok).toBe(false);
    expect(r.error).toContain('restore_watcher.log.path must be an absolute path, got "production.log"');
  });

  it('renders a bad value that check-config then rejects, naming the key', async () => {
    const config = await renderConfig({
      restore_watcher: { auth: { password: 'x' }, log: { timezone: 'Mars/Olympus_Mons' }, http: { port: 70000 } },
    });
    const result = await checkConfig(config);
    expect(result.exitCode).toBe(1);
    expect(result.output).toMatch(/log\.timezone: expected an IANA time zone/);
    expect(result.output).toMatch(/http\.port: /);
  });
});

describe.skipIf(!haveTool('ruby', 'ruby'))('bpm.yml.erb', { concurrent: true }, () => {
  it('runs the packaged Node.js on the agent with the rendered config', async () => {
    const spec = await readYaml<JobSpec>(join(JOB, 'spec'));
    const process = await renderBpm(PASSWORD_ONLY);
    expect(process.name).toBe('restore-watcher');
    expect(process.executable).toBe('/var/vcap/packages/node/bin/node');
    expect(process.args).toEqual([
      ...JOB_NODE_FLAGS,
      '/var/vcap/packages/restore-watcher/bin/restore-watcher.cjs',
      'serve',
      '--config',
      `${JOB_DIR_ON_VM}/${spec.templates['config.json.erb']}`,
    ]);
  });

  it("keeps the state on bpm's ephemeral disk, where the config puts it", async () => {
    const process = await renderBpm(PASSWORD_ONLY);
    const config = await renderConfig(PASSWORD_ONLY);
    expect(process.ephemeral_disk).toBe(true);
    expect(process.persistent_disk ?? false).toBe(false);
    expect(config.stateDir).toBe(`/var/vcap/data/${process.name}`);
  });

  it("mounts the backup-agent's log directory read-only, as it is, where bpm accepts it", async () => {
    for (const properties of [PASSWORD_ONLY, OVERRIDES]) {
      const process = await renderBpm(properties);
      const config = await renderConfig(properties);
      const logDir = dirname(config.log!.path!);
      expect(process.additional_volumes).toEqual([{ path: logDir, writable: false, mount_only: true }]);
      // bpm expands unrestricted volumes as globs: a directory missing at start would be left
      // out without a word, and the agent would never see the log.
      expect(process.unsafe).toBeUndefined();
      for (const volume of process.additional_volumes ?? []) {
        expect(bpmVolumeProblem(volume.path, process.name), volume.path).toBeUndefined();
      }
    }
  });

  it('refuses at render time a log directory bpm would refuse at start', async () => {
    for (const [path, problem] of [
      ['/var/log/backup-agent/production.log', 'must lie in a directory below /var/vcap'],
      ['/var/vcap/production.log', 'must lie in a directory below /var/vcap'],
      ['/var/vcap/sys/log//backup-agent/production.log', 'must be a canonical path'],
      ['/var/vcap/sys/log/../log/backup-agent/production.log', 'must be a canonical path'],
      ['/var/vcap/data/restore-watcher/production.log', "must not lie in the job's own data or store directory"],
      ['/var/vcap/store/restore-watcher/production.log', "must not lie in the job's own data or store directory"],
    ] as const) {
      expect(bpmVolumeProblem(dirname(path), 'restore-watcher'), path).toBeDefined();
      const r = await render('bpm.yml.erb', { properties: { restore_watcher: { auth: { password: 'x' }, log: { path } } } });
      expect(r.ok, path).toBe(false);
      expect(r.error, path).toContain(problem);
    }
  });

  it('asks for no capability unless DAC_READ_SEARCH is enabled, and then for that one only', async () => {
    expect((await renderBpm(PASSWORD_ONLY)).capabilities).toBeUndefined();
    expect((await renderBpm(OVERRIDES)).capabilities).toEqual(['DAC_READ_SEARCH']);
  });

  it("limits memory and open files, and caps Node's heap below the memory limit", async () => {
    expect((await renderBpm(PASSWORD_ONLY)).limits).toEqual({ memory: '512M', open_files: 1024 });
    const overridden = await renderBpm(OVERRIDES);
    expect(overridden.limits).toEqual({ memory: '256M', open_files: 4096 });
    expect(overridden.args[0]).toBe('--max-old-space-size=192');
    const r = await render('bpm.yml.erb', {
      properties: { restore_watcher: { auth: { password: 'x' }, bpm: { memory_limit_mb: 64 } } },
    });
    expect(r.ok).toBe(false);
    expect(r.error).toContain('restore_watcher.bpm.memory_limit_mb must be at least 128, got 64');
  });

  it('keeps the password out of the environment', async () => {
    const process = await renderBpm(OVERRIDES);
    expect(JSON.stringify(process)).not.toContain('quoted');
    expect(Object.keys(process.env ?? {})).not.toContain('RESTORE_WATCHER_PASSWORD');
  });
});

describe.skipIf(!haveTool('ruby', 'ruby'))('the renderer, held to the director', { concurrent: true }, () => {
  it('refuses a string where a property name needs a hash, as InvalidPropertyType does', async () => {
    for (const [properties, message] of [
      [{ restore_watcher: { auth: { password: 'x' }, http: 'x' } }, "Property 'restore_watcher.http.host' expects a hash, but received 'String'"],
      [{ restore_watcher: 'x' }, "Property 'restore_watcher.log.path' expects a hash, but received 'String'"],
      [{ restore_watcher: { auth: { password: 'x' }, bpm: false } }, "Property 'restore_watcher.bpm.memory_limit_mb' expects a hash, but received 'FalseClass'"],
    ] as const) {
      for (const template of ['config.json.erb', 'monit']) {
        const r = await render(template, { properties });
        expect(r.ok, JSON.stringify(properties)).toBe(false);
        expect(r.error.trim()).toBe(message);
      }
    }
  });

  it('renders the monit file with the same context as the templates', async () => {
    const job = join(scratch, 'erb-job');
    mkdirSync(join(job, 'templates'), { recursive: true });
    writeFileSync(join(job, 'spec'), 'name: erb-job\ntemplates: {}\nproperties:\n  erb.port: {default: 8080}\n');
    writeFileSync(join(job, 'monit'), 'check process <%= spec.job.templates.first.name %>-<%= p("erb.port") %>\n');
    expect(await renderOrThrow('monit', { jobDir: job })).toBe('check process erb-job-8080');
    expect(await renderOrThrow('monit')).toBe(readFileSync(join(JOB, 'monit'), 'utf8').trimEnd());
  });

  it('gives spec.job the instance group, as BOSH v1 named it, and spec.release the release', async () => {
    const job = join(scratch, 'spec-job');
    mkdirSync(join(job, 'templates'), { recursive: true });
    writeFileSync(join(job, 'spec'), 'name: spec-job\ntemplates: {}\n');
    writeFileSync(join(job, 'templates', 'who'), '<%= spec.job.name %> <%= spec.name %> <%= spec.release.name %>');
    expect(await renderOrThrow('who', { jobDir: job })).toBe('pg pg restore-watcher');
    expect(await renderOrThrow('who', { jobDir: job, spec: { name: 'postgres' } })).toBe('postgres postgres restore-watcher');
  });
});
