// Preload (`node --import`) that writes every module the process loads to
// $IMPORT_TRACE_FILE, one URL a line (`file://…` or `node:NAME`): ES modules through the
// resolution hooks of import-trace-hooks.mjs, CommonJS files and builtins through
// Module._load, which every require() passes (the built CLI is CommonJS; the packages it
// requires load their own files with require() too).
import { appendFileSync } from 'node:fs';
import Module, { isBuiltin, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(new URL('./import-trace-hooks.mjs', import.meta.url));

const load = Module._load;
Module._load = function traced(request, parent, isMain) {
  const url = isBuiltin(request)
    ? `node:${request.replace(/^node:/, '')}`
    : pathToFileURL(Module._resolveFilename(request, parent, isMain)).href;
  appendFileSync(process.env.IMPORT_TRACE_FILE, `${url}\n`);
  return load.call(this, request, parent, isMain);
};
