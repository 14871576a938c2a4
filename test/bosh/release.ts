import { execa, type Result } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../src/config.js';

/** The repository, the BOSH release directory in it, and the job's directory. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const RELEASE = join(REPO, 'bosh-job');
export const JOB = join(RELEASE, 'jobs', 'restore-watcher');
export const boshFixture = (name: string): string => join(REPO, 'fixtures', 'bosh', name);

const buildScript = readFileSync(join(REPO, 'scripts', 'bosh-build.sh'), 'utf8');
const pinned = (name: string): string => {
  const value = new RegExp(`^${name}=(\\S+)$`, 'm').exec(buildScript)?.[1];
  if (value === undefined) throw new Error(`scripts/bosh-build.sh sets no ${name}`);
  return value;
};
/** The Node.js release the build script pins, and the sha256 of its npm tarball. */
export const NODE_VERSION = pinned('NODE_VERSION');
export const NODE_SHA256 = pinned('NODE_SHA256');

const RENDERER = fileURLToPath(new URL('./render.rb', import.meta.url));

export interface Rendered {
  ok: boolean;
  text: string;
  error: string;
}

export interface RenderOptions {
  /** A manifest's `properties:` block for the job: a YAML/JSON file, or an object. */
  properties?: string | object;
  /** Instance spec overrides (address, index, deployment, name, ...). */
  spec?: object;
  /** Parse the rendered text as YAML and return it as JSON. */
  yamlToJson?: boolean;
  /** Another job's directory (the renderer's own tests); the restore-watcher job by default. */
  jobDir?: string;
}

/** Renders one of the job's templates, or `monit`, as the BOSH director would (see render.rb). */
export async function render(template: string, options: RenderOptions = {}): Promise<Rendered> {
  const scratch = mkdtempSync(join(tmpdir(), 'rw-render-'));
  try {
    const args = [RENDERER, options.jobDir ?? JOB, template];
    if (options.properties !== undefined) args.push('--properties', dataFile(scratch, 'properties.json', options.properties));
    if (options.spec !== undefined) args.push('--spec', dataFile(scratch, 'spec.json', options.spec));
    if (options.yamlToJson === true) args.push('--yaml-to-json');
    const r = await execa('ruby', args, { reject: false });
    return { ok: r.exitCode === 0, text: String(r.stdout), error: String(r.stderr) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Renders a template and fails with the renderer's message if it does not render. */
export async function renderOrThrow(template: string, options: RenderOptions = {}): Promise<string> {
  const r = await render(template, options);
  if (!r.ok) throw new Error(`${template} did not render: ${r.error}`);
  return r.text;
}

/** The rendered config.json, parsed (as written: check-config says whether it is valid). */
export async function renderConfig(properties: string | object): Promise<ConfigInput> {
  return JSON.parse(await renderOrThrow('config.json.erb', { properties })) as ConfigInput;
}

/** A YAML file of the release (spec, ops file, blobs.yml), parsed by Ruby's YAML as BOSH reads it. */
export async function readYaml<T>(path: string): Promise<T> {
  const r = await execa('ruby', ['-ryaml', '-rjson', '-e', 'puts JSON.generate(YAML.safe_load(File.read(ARGV[0])))', path]);
  return JSON.parse(String(r.stdout)) as T;
}

function dataFile(dir: string, name: string, data: string | object): string {
  if (typeof data === 'string') return data;
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(data));
  return path;
}

/** A scratch stand-in for a VM's /var/vcap with the job's rendered files in place. */
export interface VcapRoot {
  root: string;
  preStart: string;
  /** Where a /var/vcap/... path of the VM is in the scratch tree. */
  onVm(path: string): string;
}

export interface VcapRootOptions {
  properties: string | object;
  spec?: object;
  /** Compiled packages to use; by default this machine's node and this checkout stand in for them. */
  packages?: string;
  /** Changes to the rendered config before it is written, for values that only make sense on a VM. */
  adjustConfig?: (config: ConfigInput) => ConfigInput;
}

/** Lays out jobs/restore-watcher and packages/ in a temp dir; the caller removes `root`. */
export async function vcapRoot(options: VcapRootOptions): Promise<VcapRoot> {
  const root = mkdtempSync(join(tmpdir(), 'rw-vcap-'));
  const onVm = (path: string): string => join(root, path.replace(/^\/var\/vcap\//, ''));
  const job = onVm('/var/vcap/jobs/restore-watcher');
  mkdirSync(join(job, 'config'), { recursive: true });
  mkdirSync(join(job, 'bin'), { recursive: true });
  if (options.packages !== undefined) {
    symlinkSync(options.packages, onVm('/var/vcap/packages'));
  } else {
    mkdirSync(onVm('/var/vcap/packages/node/bin'), { recursive: true });
    symlinkSync(process.execPath, onVm('/var/vcap/packages/node/bin/node'));
    symlinkSync(REPO, onVm('/var/vcap/packages/restore-watcher'));
  }
  const config = JSON.parse(await renderOrThrow('config.json.erb', options)) as ConfigInput;
  writeFileSync(join(job, 'config', 'config.json'), JSON.stringify(options.adjustConfig?.(config) ?? config));
  const preStart = join(job, 'bin', 'pre-start');
  writeFileSync(preStart, await renderOrThrow('pre-start.erb', options));
  chmodSync(preStart, 0o755);
  return { root, preStart, onVm };
}

/** Runs the rendered pre-start against the scratch tree, as the BOSH agent would run it on the VM. */
export function runPreStart(vcap: VcapRoot): Promise<Result<{ reject: false }>> {
  return execa(vcap.preStart, [], { reject: false, env: { VCAP_ROOT: vcap.root } });
}
