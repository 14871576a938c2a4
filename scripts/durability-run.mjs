#!/usr/bin/env node
// The durability run: 3,000 lines written at 400 lines/s into a log followed by the
// real `serve` process, through a create-mode rotation, a BOSH-style copytruncate
// (the real logrotate, compress), a kill -9 and a SIGTERM restart. Reports lines
// written, on disk (what logrotate left), delivered, lost and duplicated.
//
//   npm run build && node scripts/durability-run.mjs [--lines N] [--rate R]
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { accessLine, rackTime } from '../dist/log-lines.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '3000' }, rate: { type: 'string', default: '400' } } });
const LINES = Number(values.lines);
const RATE = Number(values.rate);
const BIN = fileURLToPath(new URL('../bin/restore-watcher.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rw-durability-'));
const log = join(dir, 'production.log');
const stateDir = join(dir, 'state');
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify({ log: { path: log }, http: { port: 0 }, stateDir }));

const BASE = Date.UTC(2018, 10, 20, 0, 0, 0);
const line = (n) =>
  `${accessLine({ host: `10.0.0.${n % 250}`, user: 'admin', stamp: rackTime(BASE + n * 1000), method: 'POST', target: '/v1/restore', status: 500, size: 13, durationSeconds: (n % 10) / 100 })}\n`;
const lineOf = (restoreId) => {
  const m = /^restore-20181120T(\d\d)(\d\d)(\d\d)Z$/.exec(restoreId);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
};
const say = (text) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(2)}s] ${text}\n`);
const logrotate = (directives) => {
  const conf = join(dir, 'logrotate.conf');
  writeFileSync(conf, `${log} {\n  ${directives.join('\n  ')}\n}\n`);
  execFileSync('logrotate', ['-s', join(dir, 'logrotate.state'), '-f', conf]);
};

let agent = null;
function startAgent() {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = new Promise((resolve, reject) => {
    let seen = '';
    child.stderr.on('data', (chunk) => {
      seen += chunk;
      const m = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code, signal) => reject(new Error(`serve exited (${code ?? signal}) before listening: ${seen}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  agent = { child, url, exited };
  return agent;
}

const t0 = Date.now();
let fd = openSync(log, 'a');
startAgent();
await agent.url;
say('serve started');

// What happens at which line, while writing continues.
const plan = new Map([
  [Math.round(LINES * 0.2), 'rotate-create'],
  [Math.round(LINES * 0.2) + 40, 'writer-reopens'],
  [Math.round(LINES * 0.4), 'kill-9'],
  [Math.round(LINES * 0.6), 'copytruncate'],
  [Math.round(LINES * 0.8), 'sigterm'],
]);
const restarts = [];
for (let n = 1; n <= LINES; n++) {
  const due = t0 + (n * 1000) / RATE;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  writeSync(fd, line(n));
  const step = plan.get(n);
  if (step === 'rotate-create') {
    logrotate(['missingok', 'rotate 7', 'compress', 'create', 'size=1']);
    say(`line ${n}: create-mode rotation, compressed (the writer keeps appending to the renamed file for 40 lines)`);
  } else if (step === 'writer-reopens') {
    closeSync(fd);
    fd = openSync(log, 'a');
    say(`line ${n}: the writer reopens the log`);
  } else if (step === 'kill-9') {
    agent.child.kill('SIGKILL');
    await agent.exited;
    say(`line ${n}: serve killed with SIGKILL`);
    restarts.push(Date.now() + 300);
  } else if (step === 'copytruncate') {
    logrotate(['missingok', 'rotate 7', 'compress', 'copytruncate', 'size=1']);
    say(`line ${n}: BOSH-style copytruncate with compress`);
  } else if (step === 'sigterm') {
    agent.child.kill('SIGTERM');
    say(`line ${n}: SIGTERM, exit ${await agent.exited}`);
    restarts.push(Date.now() + 300);
  }
  if (restarts.length > 0 && Date.now() >= restarts[0]) {
    restarts.shift();
    startAgent();
    await agent.url;
    say(`line ${n}: serve started again`);
  }
}
closeSync(fd);
while (restarts.length > 0) {
  restarts.shift();
  startAgent();
  await agent.url;
}
say(`${LINES} lines written`);

// On disk: every line in the log and its rotated copies.
const onDisk = new Set();
for (const name of readdirSync(dir).filter((f) => f.startsWith('production.log'))) {
  const raw = readFileSync(join(dir, name));
  const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString();
  for (const m of text.matchAll(/20\/Nov\/2018:(\d\d):(\d\d):(\d\d)/g)) onDisk.add(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]));
}

const base = await agent.url;
const fetchEvents = async () => (await (await fetch(`${base}/events?limit=10000`)).json()).events;
let events = await fetchEvents();
for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
  const before = events.length;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  events = await fetchEvents();
  if (events.length === before && events.length >= onDisk.size) break;
}
const status = await (await fetch(`${base}/status`)).json();
agent.child.kill('SIGTERM');
await agent.exited;

const counts = new Map();
for (const e of events) counts.set(lineOf(e.operation.id), (counts.get(lineOf(e.operation.id)) ?? 0) + 1);
// logrotate runs between two writes here, so it drops nothing between its copy and its
// truncate: every line written must be delivered.
let lost = 0;
for (let n = 1; n <= LINES; n++) if (!counts.has(n)) lost++;
let duplicated = 0;
for (const c of counts.values()) if (c > 1) duplicated += c - 1;
const ids = events.map((e) => e.id);
const idsInOrder = ids.every((id, i) => id === i + 1);

console.log(`lines written   ${LINES} at ${RATE} lines/s`);
console.log(`on disk         ${onDisk.size} in the log and its rotated copies (the other ${LINES - onDisk.size} went to the renamed log after logrotate had compressed it: only an open handle could read them)`);
console.log(`delivered       ${counts.size} lines, as ${events.length} events with ids ${idsInOrder ? `1..${ids.length}, no gap` : 'NOT 1..n'}`);
console.log(`lost            ${lost}`);
console.log(`duplicated      ${duplicated}`);
console.log(`journal         ${status.journal.events} events kept, ${status.journal.dropped} dropped`);
rmSync(dir, { recursive: true, force: true });
process.exitCode = lost === 0 && duplicated === 0 && idsInOrder ? 0 : 1;
