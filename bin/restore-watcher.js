#!/usr/bin/env node
// Where Node has it (22.1 and later: the BOSH package's Node 24), the compiled code of
// the modules below is kept on disk between runs, as start-up is most of a short
// command's time. Older Nodes have no such cache and start as before. The CLI is
// imported after, so that its modules are compiled with the cache on.
process.getBuiltinModule('node:module').enableCompileCache?.();
const { main } = await import('../dist/cli.js');

process.exitCode = await main(process.argv.slice(2));
