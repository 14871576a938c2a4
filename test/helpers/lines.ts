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

export const access = (time: string, path: string, status = 200, host = '172.28.19.51'): string =>
  `${host} - admin [20/Nov/2018:${time} +0000] "POST ${path} HTTP/1.1" ${status} 13 0.7541`;

export const logger = (time: string, message: string, severity = 'INFO'): string =>
  `${severity[0]}, [2018-11-20T${time}.000000 #31554] ${severity.padStart(5)} -- : ${message}`;

const BASE = Date.UTC(2018, 10, 20, 0, 0, 0);

/**
 * Line number `n` (from 1) of a test log in which every line is a refused restore
 * request with a second of its own: each makes a `restore.requested` and a
 * `restore.failed` event, whose restore id names the line (see `lineOfRestore`).
 */
export function numberedLine(n: number): string {
  const d = new Date(BASE + n * 1000);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `10.0.0.${n % 250} - admin [20/Nov/2018:${hh}:${mm}:${ss} +0000] "POST /v1/restore HTTP/1.1" 500 13 0.0${n % 10}\n`;
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
