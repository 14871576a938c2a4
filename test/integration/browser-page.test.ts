import { appendFileSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { haveTool } from '../helpers/tools.js';

const PASSWORD = 'browser-pw-7d1e';

describe.skipIf(!haveTool('chromium', 'chromium'))('the live page in a real browser', () => {
  let service: TestService;
  let browser: Browser;

  beforeAll(async () => {
    // The log's times are in 2018: no stall ticks on the wall clock during the test.
    service = await startTestService({ auth: { password: PASSWORD } });
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await service?.dispose();
  });

  it('shows the latest restore and follows it live as lines are appended', async () => {
    writeFileSync(service.logPath, [access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order')].join('\n') + '\n');
    await expect.poll(() => service.agent.status().lastEventId).toBe(2);

    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    const response = await page.goto(`${service.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);

    const text = (selector: string) => page.locator(selector).textContent();
    await expect.poll(() => text('#restore-id')).toBe('restore-20181120T120000Z');
    await expect.poll(() => text('#restore-state')).toBe('running');
    await expect.poll(() => text('#connection')).toBe('live');
    await expect.poll(() => page.locator('#events li').count()).toBe(2);

    appendFileSync(service.logPath, `${logger('12:00:05', 'restoring base backup')}\n`);
    await expect.poll(() => text('#last-message'), { timeout: 10_000 }).toBe('restoring base backup');
    appendFileSync(service.logPath, `${logger('12:00:09', 'success')}\n`);
    await expect.poll(() => text('#restore-state'), { timeout: 10_000 }).toBe('succeeded');
    await expect.poll(() => text('#elapsed')).toBe('took 9s');
    const newest = page.locator('#events li').first();
    expect(await newest.locator('time').textContent()).toBe('2018-11-20 12:00:09Z');
    expect(await newest.locator('.type').textContent()).toBe('succeeded');

    // A new restore replaces the old one on the page.
    appendFileSync(service.logPath, `${access('13:00:00', '/v1/restore')}\n`);
    await expect.poll(() => text('#restore-id'), { timeout: 10_000 }).toBe('restore-20181120T130000Z');
    expect(await page.locator('#events li').count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
