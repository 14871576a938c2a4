#!/usr/bin/env node
// Writes the fixtures that are clearer generated than typed: ones with bytes that
// are not UTF-8, a 200 KB line, CRLF endings and a line cut in the middle.
// Needs the build (npm ci builds dist/).
import { writeFileSync } from 'node:fs';
import { accessLine, loggerLine, loggerTime, rackTime } from '../dist/log-lines.js';

const dir = new URL('../fixtures/', import.meta.url);
const at = (time) => Date.parse(`2018-11-20T${time}Z`);
const access = (time, path, status = 200) =>
  accessLine({ host: '172.28.19.51', user: 'admin', stamp: rackTime(at(time)), method: 'POST', target: path, status, size: 13, durationSeconds: 0.7541 });
const info = (time, message) => loggerLine({ stamp: loggerTime(at(time)), pid: 31554, severity: 'INFO', message });

const parts = [
  Buffer.from('==== backup-agent 1.4.2 booting (pid 31554) ====\n'),
  Buffer.from('\n'),
  Buffer.from(`${access('18:00:00', '/v1/restore')}\n`),
  Buffer.from('\xff\xfe not utf-8 \xc3\x28 at all\n', 'latin1'),
  Buffer.from(`${access('18:00:01', '/v1/order')}\r\n`),
  Buffer.from(`${'x'.repeat(200 * 1024)}\n`),
  Buffer.from('172.28.19.51 - admin [20/Nov/2018:18:00:1\n'),
  Buffer.from(`${info('18:00:20', 'ünïcödé progress message ✓')}\n`),
  Buffer.from('   \n'),
  Buffer.from(`${info('18:00:40', 'success')}\n`),
  Buffer.from(`${access('18:00:41', '/v1/order')}\n`),
];
writeFileSync(new URL('garbage-between.log', dir), Buffer.concat(parts));
console.log('wrote fixtures/garbage-between.log');
