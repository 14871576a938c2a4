// Preload (`node --require`) that writes every V8 flag the process sets at run time to
// $V8_FLAGS_TRACE_FILE, one a line. process.getBuiltinModule('node:v8') returns the
// module object this wraps.
const { appendFileSync } = require('node:fs');
const v8 = require('node:v8');

const set = v8.setFlagsFromString;
v8.setFlagsFromString = function traced(flags) {
  appendFileSync(process.env.V8_FLAGS_TRACE_FILE, `${flags}\n`);
  return set.call(this, flags);
};
