/** The package's version, read once from package.json beside `dist/`. */
// Not an import of node:fs: its ESM facade loads the stream library (see commands/replay-input.ts).
const { readFileSync } = process.getBuiltinModule('node:fs');

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
