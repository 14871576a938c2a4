import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { access, logger } from '../helpers/lines.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { haveTool } from '../helpers/tools.js';

const PASSWORD = 'picture-pw-41c9';
/** Screenshots stay here for a person to look at; the path is printed. */
const SHOTS = process.env.RW_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'rw-page-shots-'));

const poll = (time: string): string => access(time, '/v1/order');

/** Three restores: one refused, one that succeeded in 20 minutes, one running that stalled for a while. */
const HISTORY = [
  access('09:00:00', '/v1/restore', 403),
  access('10:00:00', '/v1/restore'),
  poll('10:00:30'),
  logger('10:01:00', 'restoring base backup'),
  poll('10:10:00'),
  logger('10:20:00', 'success'),
  access('12:00:00', '/v1/restore'),
  poll('12:00:30'),
  poll('12:01:00'),
  poll('12:01:30'),
  logger('12:02:00', 'restoring base backup'),
  logger('12:03:00', 'pg_basebackup: slow transfer', 'WARN'),
  poll('12:04:00'),
  // fifteen minutes of silence: more than the 600 s after which a restore is stalled
  logger('12:19:00', 'replaying WAL'),
  poll('12:19:30'),
  poll('12:20:00'),
];
const CURRENT_POLLS = 6;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x - 1 &&
  inner.y >= outer.y - 1 &&
  inner.x + inner.width <= outer.x + outer.width + 1 &&
  inner.y + inner.height <= outer.y + outer.height + 1;

describe.skipIf(!haveTool('chromium', 'chromium'))('the page as a picture of the restore, in a real browser', () => {
  let browser: Browser;
  // Each scenario gets an agent of its own, so restores of one do not show in another's history.
  let service: TestService;

  beforeAll(async () => {
    browser = await launchChromium();
    console.info(`page screenshots: ${SHOTS}`);
  }, 30_000);
  beforeEach(async () => {
    // An error fails a restore when no success follows within the grace: a second here, not a minute.
    service = await startTestService({ auth: { password: PASSWORD }, track: { rules: { failureGraceSeconds: 1 } } });
  });
  afterEach(async () => service?.dispose());
  afterAll(async () => browser?.close());

  async function open(width: number, before?: (page: Page) => Promise<unknown>): Promise<Page> {
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: PASSWORD },
      viewport: { width, height: 900 },
      colorScheme: 'light',
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('close', () => expect(problems).toEqual([]));
    await before?.(page);
    await page.goto(`${service.url}/`);
    return page;
  }

  it('before any restore, and without a probe, shows only what there is', async () => {
    writeFileSync(service.logPath, '');
    const page = await open(1000);
    await expect.poll(() => page.locator('#agent-state').textContent()).toBe('idle');
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');
    expect(await page.locator('#none').isVisible()).toBe(true);
    for (const hidden of ['#restore', '#postgres-row', '#history', '#events-section', '.failure']) {
      expect(await page.locator(hidden).first().isVisible(), hidden).toBe(false);
      expect(await page.locator(hidden).first().boundingBox(), hidden).toBeNull();
    }
    await page.screenshot({ path: join(SHOTS, 'empty.png'), fullPage: true });
    await page.context().close();
  }, 30_000);

  it('keeps the header in step with the stream, with /status no longer answering', async () => {
    writeFileSync(service.logPath, '');
    let statusCalls = 0;
    const page = await open(1000, (p) =>
      // The first /status says idle; every later one fails, so only stream events can move the header.
      p.route('**/status', (route) => (statusCalls++ === 0 ? route.continue() : route.abort())),
    );
    await expect.poll(() => page.locator('#agent-state').textContent()).toBe('idle');
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');

    appendFileSync(service.logPath, `${access('14:00:00', '/v1/restore')}\n${poll('14:00:05')}\n`);
    await expect.poll(() => page.locator('#restore-state').textContent(), { timeout: 10_000 }).toBe('running');
    expect(await page.locator('#agent-state').textContent()).toBe('restore-running');
    appendFileSync(service.logPath, `${logger('14:00:09', 'success')}\n`);
    await expect.poll(() => page.locator('#restore-state').textContent(), { timeout: 10_000 }).toBe('succeeded');
    expect(await page.locator('#agent-state').textContent()).toBe('idle');
    await page.context().close();
  }, 30_000);

  it('draws the phases, the activity on a time axis and the past restores, wide and narrow', async () => {
    writeFileSync(service.logPath, `${HISTORY.join('\n')}\n`);
    await expect.poll(() => service.agent.status().restore?.orderPolls).toBe(CURRENT_POLLS);

    for (const width of [1200, 380]) {
      const page = await open(width);
      await expect.poll(() => page.locator('#restore-id').textContent()).toBe('restore-20181120T120000Z');
      await expect.poll(() => page.locator('#history-rows tr').count()).toBe(3);

      // Phases: the states it went through, the one it is in, and the end still to come.
      const phases = page.locator('#phases li');
      expect(await phases.locator('.phase-name').allTextContents()).toEqual(['requested', 'running', 'stalled', 'finished']);
      expect(await page.locator('#phases li.current .phase-name').textContent()).toBe('running');
      expect(await phases.nth(2).locator('.phase-time').textContent()).toBe('12:14:00Z · 5m00s');

      // The time axis: one mark per poll, message, warning and stall, all inside the picture.
      const svg = page.locator('#timeline svg');
      expect(await svg.isVisible()).toBe(true);
      const frame = (await svg.boundingBox())!;
      expect(frame.width).toBeGreaterThan(250);
      expect(frame.x + frame.width).toBeLessThanOrEqual(width);
      expect(await svg.locator('.mark.poll').count()).toBe(CURRENT_POLLS);
      for (const mark of await svg.locator('.mark').all()) expect(await mark.isVisible()).toBe(true);
      expect(await svg.locator('.mark.message').count()).toBe(2);
      expect(await svg.locator('.mark.warn').count()).toBe(1);
      expect(await svg.locator('.mark.stall').count()).toBe(1);
      expect(await svg.locator('.band.stalled').count()).toBe(1);
      // Measured in one go in the page: the picture is redrawn as the axis moves.
      const boxes = await svg.evaluate((root: { querySelectorAll(s: string): Iterable<{ getBoundingClientRect(): Box }> }) =>
        [...root.querySelectorAll('.mark, .band')].map((e) => {
          const r = e.getBoundingClientRect();
          return { x: r.x, y: r.y, width: r.width, height: r.height };
        }),
      );
      expect(boxes.length).toBe(CURRENT_POLLS + 2 + 1 + 1 + 4);
      for (const box of boxes) expect(inside(box, frame), JSON.stringify(box)).toBe(true);
      const stall = (await svg.locator('.mark.stall').boundingBox())!;
      const polls = await Promise.all((await svg.locator('.mark.poll').all()).map(async (m) => (await m.boundingBox())!.x));
      expect(polls.filter((x) => x < stall.x)).toHaveLength(4); // the stall came after 12:04 and before 12:19:30
      expect(await svg.locator('.tick').count()).toBeGreaterThanOrEqual(2);

      // The past restores, newest first, with outcome and duration.
      const rows = page.locator('#history-rows tr');
      expect(await rows.locator('td.state').allTextContents()).toEqual(['running', 'succeeded', 'failed']);
      expect(await rows.nth(1).locator('td.took').textContent()).toBe('20m00s');
      expect(await rows.nth(2).locator('td.took').textContent()).toBe('0s');
      // Still running, by the log's clock: the log is years older than the browser's clock.
      expect(await rows.nth(0).locator('td.took').textContent()).toBe('20m00s so far');
      expect(await page.locator('#elapsed').textContent()).toBe('20m00s so far');
      expect(await rows.nth(0).getAttribute('class')).toBe('current');

      // Events carry their date.
      expect(await page.locator('#events li').first().locator('time').textContent()).toBe('2018-11-20 12:20:00Z');

      // Nothing wider than the window.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(SHOTS, `running-${width}.png`), fullPage: true });
      await page.context().close();
    }

    const page = await open(1200);
    await expect.poll(() => page.locator('#restore-state').textContent()).toBe('running');
    appendFileSync(service.logPath, `${logger('12:25:00', 'success')}\n`);
    await expect.poll(() => page.locator('#restore-state').textContent(), { timeout: 10_000 }).toBe('succeeded');
    expect(await page.locator('#phases .phase-name').allTextContents()).toEqual(['requested', 'running', 'stalled', 'succeeded']);
    expect(await page.locator('#timeline .outcome.succeeded').count()).toBe(1);
    await expect.poll(() => page.locator('#history-rows tr td.state').first().textContent(), { timeout: 10_000 }).toBe('succeeded');
    expect(await page.locator('#history-rows tr td.took').first().textContent()).toBe('25m00s');
    expect(await page.locator('#agent-state').textContent()).toBe('idle');
    await page.screenshot({ path: join(SHOTS, 'succeeded-1200.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('shows a failed restore: its failure, the error on the axis, the failed phase', async () => {
    writeFileSync(
      service.logPath,
      [
        access('08:00:00', '/v1/restore'),
        poll('08:00:20'),
        logger('08:01:00', 'restoring base backup'),
        logger('08:02:30', 'restore failed: could not connect to the blob store\n/var/vcap/packages/backup-agent/lib/restore.rb:42:in `fetch\'', 'ERROR'),
      ].join('\n') + '\n',
    );
    await expect.poll(() => service.agent.status().restore?.state, { timeout: 15_000 }).toBe('failed');
    const page = await open(380);
    await expect.poll(() => page.locator('#restore-state').textContent()).toBe('failed');
    expect(await page.locator('#phases .phase-name').allTextContents()).toEqual(['requested', 'running', 'failed']);
    expect(await page.locator('#failure').isVisible()).toBe(true);
    expect(await page.locator('#failure').textContent()).toMatch(/^restore failed: could not connect to the blob store\n.*restore\.rb:42/);
    expect(await page.locator('#timeline .mark.error').count()).toBe(1);
    expect(await page.locator('#counts').textContent()).toBe('1 order poll, 2 log messages');
    expect(await page.locator('#timeline .outcome.failed').count()).toBe(1);
    expect(await page.locator('#history-rows td.state').allTextContents()).toEqual(['failed']);
    expect(await page.locator('#history-rows td.took').allTextContents()).toEqual(['2m30s']);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(380);
    await page.screenshot({ path: join(SHOTS, 'failed-380.png'), fullPage: true });
    await page.context().close();
  }, 30_000);
});
