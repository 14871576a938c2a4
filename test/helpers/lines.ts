import { accessLine, loggerLine, loggerTime, rackTime, type LoggerLine } from '../../src/log-lines.js';
import type { Line } from '../../src/model.js';

/** Lines with consecutive offsets, as the splitter would cut them from `texts` joined by "\n". */
export function linesOf(texts: string[], file = 'production.log'): Line[] {
  let offset = 0;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const line: Line = { text, file, offset, end, cut: false, invalidUtf8: false };
    offset = end;
    return line;
  });
}

const BASE = Date.UTC(2018, 10, 20, 0, 0, 0);

/** `HH:MM:SS` on 2018-11-20 (UTC) as epoch milliseconds. */
const at = (time: string): number => Date.parse(`2018-11-20T${time}Z`);

export const access = (time: string, path: string, status = 200, host = '172.28.19.51'): string =>
  accessLine({ host, user: 'admin', stamp: rackTime(at(time)), method: 'POST', target: path, status, size: 13, durationSeconds: 0.7541 });

export const logger = (time: string, message: string, severity = 'INFO'): string =>
  loggerLine({ stamp: loggerTime(at(time)), pid: 31554, severity: severity as LoggerLine['severity'], message });

/**
 * Line number `n` (from 1) of a test log in which every line is a refused restore
 * request with a second of its own: each makes a `restore.requested` and a
 * `restore.failed` event, whose restore id names the line (see `lineOfRestore`).
 */
export function numberedLine(n: number): string {
  const stamp = rackTime(BASE + n * 1000);
  return `${accessLine({ host: `10.0.0.${n % 250}`, user: 'admin', stamp, method: 'POST', target: '/v1/restore', status: 500, size: 13, durationSeconds: (n % 10) / 100 })}\n`;
}

/** The line number a restore id made by `numberedLine` names. */
export function lineOfRestore(restoreId: string): number {
  const m = /^restore-20181120T(\d\d)(\d\d)(\d\d)Z$/.exec(restoreId);
  if (m === null) throw new Error(`unexpected restore id ${restoreId}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** Lines `from`..`to` (inclusive) as one string. */
export function numberedLines(from: number, to: number): string {
  let out = '';
  for (let n = from; n <= to; n++) out += numberedLine(n);
  return out;
}

/** 1..n */
export const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
