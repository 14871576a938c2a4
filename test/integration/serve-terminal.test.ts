import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { haveTool } from '../helpers/tools.js';
import { SLOW } from '../helpers/watch.js';

// A tmux server of our own per test, so nothing else's sessions are touched and a
// server still shutting down from the test before is never reused.
let tests = 0;
let socket = '';
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-J', '-t', 'serve');

afterEach(() => {
  try {
    tmux('kill-server');
  } catch {
    // Already gone.
  }
});

function serveInTerminal(flags: string): void {
  socket = `rw-serve-test-${process.pid}-${++tests}`;
  const dir = mkdtempSync(join(tmpdir(), 'rw-serve-tty-'));
  const command = `${process.execPath} ${BIN} serve --port 0 --log ${join(dir, 'production.log')} --state-dir ${join(dir, 'state')} ${flags}; sleep 600`;
  tmux('new-session', '-d', '-s', 'serve', '-x', '200', '-y', '20', command);
}

describe.skipIf(!haveTool('tmux', 'tmux'))('serve on a terminal', () => {
  it('writes its log as readable lines', async () => {
    serveInTerminal('');
    await expect.poll(() => screen(), SLOW).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: restore-watcher listening \{"address":"http:/m);
    expect(screen()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: log file does not exist yet; waiting for it to appear/m);
    expect(screen()).not.toContain('"level":');
  });

  it('writes JSON with --log-format json', async () => {
    serveInTerminal('--log-format json');
    await expect.poll(() => screen(), SLOW).toMatch(/"msg":"restore-watcher listening"/);
    expect(screen()).toMatch(/^\{"level":30,/m);
  });
});
