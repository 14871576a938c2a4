/**
 * The floor for a line-by-line reader in Node: node:readline over a read stream,
 * counting lines and nothing else. The replay benchmark compares against it.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: readline-count FILE\n');
  process.exit(64);
}
let lines = 0;
for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
  if (line !== undefined) lines++;
}
process.stdout.write(`${lines}\n`);
