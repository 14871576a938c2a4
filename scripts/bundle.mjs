// Builds the command line that bin/restore-watcher.cjs runs: src/ bundled by rolldown into
// CommonJS chunks in dist-cli/ (or the directory given as the first argument), with a
// source map beside each.
//
//   node scripts/bundle.mjs [OUT_DIR]      (npm run build runs it after tsc)
//
// Why a bundle, and why CommonJS: start-up is most of a short command's time, and most
// of that was module loading. Measured side by side in one hyperfine run on Node 20.20
// (2 cores, load 1.6, the job's node flags), `replay --json` of an empty file, median,
// against `node -e 0` at 46 ms:
//   one ES module per source file (tsc's dist/), as before   67 ms   1.45×
//   this bundle as ES modules, from an ES module bin         57 ms   1.23×
//   this bundle as CommonJS, from an ES module bin           59 ms   1.28×
//   this bundle as CommonJS, from a CommonJS bin             52 ms   1.13×
// Node 20's ESM loader is the difference: the first ES module starts it, and it loads its
// own internals (fs/promises, streams, readline) to read modules, then resolves, links
// and compiles each module on its own (~21 of ours for replay, ~90 for serve).
// CommonJS files are read and compiled synchronously by a loader that is already there,
// and the bundle makes replay's ~21 files 6. On Node 24 with the compile cache (the BOSH
// package's) the same replay went from 1.41× `node -e 0` (19 ms) to 1.18×.
//
// Code splitting keeps each command's modules in chunks of their own, loaded when the
// command is picked (src/cli.ts imports each command with import()), so `replay` never
// loads the server: test/integration/replay-modules.test.ts reads the chunks' source maps
// to say which modules of src/ a command loaded.
//
// Packages under node_modules stay outside the bundle and are required at run time, from
// the package's production node_modules (pino and fastify load files of their own by
// path). An ES-only package (execa) must be loaded with import(), which rolldown keeps
// as import() in CommonJS: a static import would become require() of an ES module,
// which this build refuses (see esmRequired). Every import() of a package or builtin
// stays one, so the paths that take one (a .gz log, pretty logs, hooks, the readiness
// probe) start the ESM loader then; import() of our own modules becomes require().
//
// Source maps: a stack trace of a bug points into dist-cli/*.cjs; run the command with
// `node --enable-source-maps` to read it as lines of src/. That is not the default: it
// made the replay above 57 ms (1.22×) instead of 52, while the sourceMappingURL comment
// alone costs nothing measurable.
import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'dist-cli'));
const requireFromRoot = createRequire(join(root, 'package.json'));

/** Whether a bare specifier names a package (or a file of one): anything not relative or absolute. */
const isPackage = (id) => !id.startsWith('.') && !id.startsWith('/');

/** Why `require(id)` would load an ES module, or null when it loads CommonJS. */
function esmRequired(id) {
  const file = requireFromRoot.resolve(id);
  if (file.endsWith('.cjs')) return null;
  if (file.endsWith('.mjs')) return `${id} resolves to ${file}`;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    return pkg.type === 'module' ? `${id} resolves to ${file}, in a package of "type": "module"` : null;
  }
  return null;
}

const problems = [];
const { output } = await build({
  cwd: root,
  input: { cli: join(root, 'src/cli.ts') },
  platform: 'node',
  external: isPackage,
  logLevel: 'warn',
  // Warnings (import.meta replaced by {}, an unresolved import, …) would be bugs at run time.
  onLog: (level, log) => {
    problems.push(`${level}: ${log.message}`);
  },
  output: {
    dir: outDir,
    format: 'cjs',
    sourcemap: true,
    cleanDir: true,
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
  },
});

// A chunk's static imports of packages become require() calls; each must load CommonJS.
const ownChunks = new Set(output.map((file) => file.fileName));
for (const chunk of output) {
  if (chunk.type !== 'chunk') continue;
  for (const id of chunk.imports.filter((i) => !ownChunks.has(i) && !isBuiltin(i))) {
    const why = esmRequired(id);
    if (why !== null) problems.push(`${chunk.fileName} would require() an ES module (${why}): import() it where it is used`);
  }
}
if (problems.length > 0) {
  process.stderr.write(`bundle: ${problems.join('\nbundle: ')}\n`);
  process.exitCode = 1;
}
