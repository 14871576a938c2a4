/**
 * Every event names the file its line was read from: after copytruncate with
 * compression at once (BOSH), lines the agent had not read yet are read from
 * `production.log.1.gz`, and their events say so, with that file's inode and the
 * offset in its decompressed content; lines read from the log name the log.
 */
import { appendFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentDir, startDrivenAgent } from '../helpers/agent.js';
import { numberedLine, numberedLines } from '../helpers/lines.js';
import { BOSH_DIRECTIVES, logrotate } from '../helpers/rotate.js';
import { haveTool } from '../helpers/tools.js';

describe.skipIf(!haveTool('logrotate', 'logrotate'))('the source of each event', () => {
  it('names production.log.1.gz for lines read from the compressed copy, and the log for the rest', async () => {
    const where = agentDir();
    appendFileSync(where.log, numberedLines(1, 2));
    const agent = await startDrivenAgent(where);
    const logIno = statSync(where.log).ino;
    appendFileSync(where.log, numberedLines(3, 4)); // not read yet
    logrotate(where.log, BOSH_DIRECTIVES);
    const copyIno = statSync(`${where.log}.1.gz`).ino;
    appendFileSync(where.log, numberedLine(5));
    await agent.follower.check();

    const size = Buffer.byteLength(numberedLine(1));
    // Each refused request is `restore.requested` then `restore.failed` from the same line: one per line.
    const sources = agent.journal
      .all()
      .filter((e) => e.type === 'restore.failed')
      .map((e) => ({ file: e.file, offset: e.offset, source: e.source }));
    expect(sources).toEqual([
      { file: where.log, offset: 0, source: { path: where.log, identity: expect.objectContaining({ ino: logIno }), offset: 0 } },
      { file: where.log, offset: size, source: { path: where.log, identity: expect.objectContaining({ ino: logIno }), offset: size } },
      {
        file: `${where.log}.1.gz`,
        offset: 2 * size,
        source: { path: `${where.log}.1.gz`, identity: expect.objectContaining({ ino: copyIno }), offset: 2 * size },
      },
      {
        file: `${where.log}.1.gz`,
        offset: 3 * size,
        source: { path: `${where.log}.1.gz`, identity: expect.objectContaining({ ino: copyIno }), offset: 3 * size },
      },
      { file: where.log, offset: 0, source: { path: where.log, identity: expect.objectContaining({ ino: logIno }), offset: 0 } },
    ]);
  });
});
