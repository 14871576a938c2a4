#!/usr/bin/env node
// Writes the fixtures that are clearer generated than typed: ones with bytes that
// are not UTF-8, a 200 KB line, CRLF endings and a line cut in the middle.
import { writeFileSync } from 'node:fs';

const dir = new URL('../fixtures/', import.meta.url);
const access = (time, path, status = 200) =>
  `172.28.19.51 - admin [20/Nov/2018:${time} +0000] "POST ${path} HTTP/1.1" ${status} 13 0.7541`;

const parts = [
  Buffer.from('==== backup-agent 1.4.2 booting (pid 31554) ====\n'),
  Buffer.from('\n'),
  Buffer.from(`${access('18:00:00', '/v1/restore')}\n`),
  Buffer.from('\xff\xfe not utf-8 \xc3\x28 at all\n', 'latin1'),
  Buffer.from(`${access('18:00:01', '/v1/order')}\r\n`),
  Buffer.from(`${'x'.repeat(200 * 1024)}\n`),
  Buffer.from('172.28.19.51 - admin [20/Nov/2018:18:00:1\n'),
  Buffer.from('I, [2018-11-20T18:00:20.000000 #31554]  INFO -- : ünïcödé progress message ✓\n'),
  Buffer.from('   \n'),
  Buffer.from('I, [2018-11-20T18:00:40.000000 #31554]  INFO -- : success\n'),
  Buffer.from(`${access('18:00:41', '/v1/order')}\n`),
];
writeFileSync(new URL('garbage-between.log', dir), Buffer.concat(parts));
console.log('wrote fixtures/garbage-between.log');
