import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { haveTool } from '../helpers/tools.js';
import { SLOW } from '../helpers/watch.js';

// A tmux server of our own, so nothing else's sessions are touched.
const SOCKET = `rw-watch-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (escapes = false): string => tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', 'watch');

let service: TestService | null = null;
afterEach(async () => {
  try {
    tmux('kill-server');
  } catch {
    // Already gone.
  }
  await service?.dispose();
  service = null;
});

async function watchInTerminal(env: string): Promise<TestService> {
  // An error fails a restore when no success follows within the grace: a second here, not a minute.
  service = await startTestService({ track: { rules: { failureGraceSeconds: 1 } } });
  writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
  await expect.poll(() => service!.agent.status().lastEventId, SLOW).toBe(1);
  const command = `env ${env} RESTORE_WATCHER_PASSWORD= ${process.execPath} ${BIN} watch --url ${service.url} --until-done; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', 'watch', '-x', '110', '-y', '20', command);
  return service;
}

describe.skipIf(!haveTool('tmux', 'tmux'))('watch in a real terminal', () => {
  it('draws a live view of the restore in colour, in place, and leaves its outcome on screen', async () => {
    const s = await watchInTerminal('NO_COLOR=');
    await expect.poll(() => screen(), SLOW).toMatch(/^. restore-20181120T120000Z {2}requested {2}\S+ elapsed {2}last activity \S+ ago$/m);
    appendFileSync(s.logPath, `${access('12:00:01', '/v1/order')}\n${logger('12:00:04', 'restoring base backup')}\n`);
    await expect.poll(() => screen(), SLOW).toMatch(/^. restore-20181120T120000Z {2}running {2}.* 1 order poll$\n^ {2}restoring base backup$/m);
    expect(screen(true)).toContain('\x1b[36mrunning');
    appendFileSync(s.logPath, `${logger('12:00:09', 'success')}\n`);
    await expect.poll(() => screen(), SLOW).toContain('EXIT=0');
    const lines = screen().split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      '2018-11-20 12:00:00Z  restore-20181120T120000Z  requested  restore requested by admin at 172.28.19.51: POST /v1/restore answered 200',
      '2018-11-20 12:00:01Z  restore-20181120T120000Z  progress   POST /v1/order answered 200',
      '2018-11-20 12:00:04Z  restore-20181120T120000Z  progress   restoring base backup',
      '2018-11-20 12:00:09Z  restore-20181120T120000Z  succeeded  success',
      '✔ restore-20181120T120000Z  succeeded in 9s  1 order poll',
      '  success',
      `  ${s.url}  connected`,
      'EXIT=0',
    ]);
  });

  it('draws no colour when NO_COLOR is set', async () => {
    const s = await watchInTerminal('NO_COLOR=1');
    await expect.poll(() => screen(), SLOW).toMatch(/restore-20181120T120000Z {2}requested {2}\S+ elapsed/);
    expect(screen(true)).not.toMatch(/\x1b\[(?:[0-9;]*[1-9][0-9;]*)m/);
    appendFileSync(s.logPath, `${logger('12:00:09', 'FATAL: no space left', 'FATAL')}\n`);
    await expect.poll(() => screen(), SLOW).toContain('EXIT=1');
    expect(screen()).toContain('✖ restore-20181120T120000Z  failed after 9s');
  });
});
