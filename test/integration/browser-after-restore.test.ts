import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/service.js';
import { fixture } from '../helpers/cli.js';
import { haveTool } from '../helpers/tools.js';
import { SLOW } from '../helpers/watch.js';

/** The agent on a copy of a corpus log, its wall clock at `now`. */
async function agentOn(name: string, now = Date.now()): Promise<RunningService> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-page-'));
  const log = join(dir, 'production.log');
  copyFileSync(fixture(`corpus/${name}.log`), log);
  const config = parseConfig({ log: { path: log, pollIntervalMs: 50 }, http: { host: '127.0.0.1', port: 0 }, stateDir: join(dir, 'state') });
  return startService(config, { logger: pino({ level: 'silent' }), now: () => now });
}

describe.skipIf(!haveTool('chromium', 'chromium'))('the page after and during a restore, in a real browser', () => {
  let browser: Browser;
  let service: RunningService | null = null;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 30_000);
  afterEach(async () => {
    await service?.close();
    service = null;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the backups the Backup Manager no longer knows under an ended restore', async () => {
    service = await agentOn('restore-named-backup-with-later-backups');
    await expect.poll(() => service!.agent.status().restore?.state, SLOW).toBe('succeeded');
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${service.url}/`);
    await expect.poll(() => page.locator('#forgotten').isVisible(), SLOW).toBe(true);
    expect(await page.locator('#forgotten-decision').textContent()).toContain('restored a9s-pg-1542679200123');
    expect((await page.locator('#forgotten-list li').allTextContents()).map((t) => t.split(/ +/).slice(0, 2))).toEqual([
      ['a9s-pg-1542765600234', 'succeeded'],
      ['a9s-pg-1542852000345', 'succeeded'],
    ]);
    expect(await page.locator('#estimate').isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows a running restore’s phases and its time left, with the basis', async () => {
    service = await agentOn('restore-history', Date.parse('2018-11-22T10:00:15Z'));
    await expect.poll(() => service!.agent.status().restore?.id, SLOW).toBe('restore-20181122T100000Z');
    const page = await browser.newPage();
    await page.goto(`${service.url}/`);
    await expect.poll(() => page.locator('#estimate').textContent(), SLOW).toBe('~3 min left, from 3 earlier restores with a restore phase');
    // The restore's named phases, under its states: here one, the current.
    expect(await page.locator('#named-phases .phase-name').allTextContents()).toEqual(['restore']);
    expect(await page.locator('#named-phases .phase.current .phase-time').textContent()).toMatch(/ · \d+s \(now\)$/);
    expect(await page.locator('#forgotten').isVisible()).toBe(false);
    await page.close();
  }, 60_000);
});
