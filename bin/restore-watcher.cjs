#!/usr/bin/env node
// CommonJS, like the bundle it enters (dist-cli/, built from src/ by scripts/bundle.mjs,
// which says why): an ES module here would start Node 20's ESM loader for this one file,
// 7 ms of an empty replay's 52.
//
// A bug's stack trace points into dist-cli/*.cjs. To read it as lines of src/, run the
// same command as `node --enable-source-maps bin/restore-watcher.cjs …` (the .map files
// are beside the chunks); that is off by default as it slows every start.
//
// Where Node has it (22.1 and later: the BOSH package's Node 24), the compiled code of
// the bundle is kept on disk between runs, as start-up is most of a short command's
// time. Older Nodes have no such cache: there node:module is not even loaded, as
// loading it loads the ES module loader too (0.3-1.4 ms on Node 20). The bundle is
// required after, so that it is compiled with the cache on.
if (Number(process.versions.node.split('.')[0]) >= 22) require('node:module').enableCompileCache?.();
require('../dist-cli/cli.cjs')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
