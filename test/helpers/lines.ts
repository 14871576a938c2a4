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
