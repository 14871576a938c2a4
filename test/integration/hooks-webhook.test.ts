import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendRubyLog, backupSteps, haveRubyRack } from '../helpers/ruby-log.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { haveTool } from '../helpers/tools.js';
import { SLOW } from '../helpers/watch.js';

let service: TestService | null = null;
let server: Server | null = null;
afterEach(async () => {
  await service?.dispose();
  service = null;
  await new Promise((resolve) => (server === null ? resolve(undefined) : server.close(resolve)));
  server = null;
});

/** The webhook script docs/after-restore.md shows for the BOSH property, pointed at `url`. */
function documentedScript(url: string): string {
  const doc = readFileSync(new URL('../../docs/after-restore.md', import.meta.url), 'utf8');
  const block = /script: \|\n((?: {8}.*\n)+)/.exec(doc)?.[1];
  expect(block, 'the webhook example in docs/after-restore.md').toBeDefined();
  const script = block!.replace(/^ {8}/gm, '');
  expect(script).toContain('https://hooks.example.com/a9s-pg');
  return script.replace('https://hooks.example.com/a9s-pg', url);
}

describe.skipIf(!haveRubyRack() || !haveTool('curl', 'curl'))('the documented webhook hook', () => {
  it('posts each ended backup’s event with curl, and a refused post is retried', async () => {
    const posts: { body: unknown; type: string | undefined }[] = [];
    let answers = [500, 200];
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push({ body: JSON.parse(body), type: req.headers['content-type'] });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    const dir = mkdtempSync(join(tmpdir(), 'rw-webhook-'));
    const script = join(dir, 'hook');
    writeFileSync(script, documentedScript(`http://127.0.0.1:${port}/a9s-pg`));
    chmodSync(script, 0o755);
    service = await startTestService({ hooks: { commands: [[script]], retryDelaySeconds: 0.1 } }, { dir });
    await appendRubyLog(service.logPath, backupSteps(new Date('2018-11-22T04:00:15Z'), 75));

    await expect.poll(() => posts.length, SLOW).toBe(2);
    const ended = service.agent.journal.all().find((e) => e.type === 'backup.succeeded');
    expect(posts.map((p) => p.body)).toEqual([ended, ended]);
    expect(posts[0]!.type).toBe('application/json');
    expect(service.hooks?.counters).toMatchObject({ runs: 2, failures: 1, givenUp: 0 });
  });
});
