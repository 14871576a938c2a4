import { Writable } from 'node:stream';
import pino from 'pino';

/** A pino logger whose JSON lines are parsed and kept, so tests assert on what the agent logs. */
export function capturingLogger(level: pino.Level = 'info'): { logger: pino.Logger; records: Array<Record<string, any>>; raw: () => string } {
  const records: Array<Record<string, any>> = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString('utf8');
      raw += text;
      for (const line of text.split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, any>);
      callback();
    },
  });
  return { logger: pino({ level }, stream), records, raw: () => raw };
}

/** The Authorization header for Basic credentials. */
export const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
