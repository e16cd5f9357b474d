import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../services/hub.js';
import { alertHub, MIN, settledAlerts, TestDevice } from './helpers/alerts.js';
import { collectErrors, dashboardBuilt, hasChromium, launchBrowser, screenshot } from './helpers/browser.js';
import type { FakeClock } from './helpers/fake-clock.js';
import { ApiClient, siteFixture } from './helpers/hub.js';

const A = 'fanghuali-n1';
const B = 'xiangshuwan-e1';
const PASSWORD = 'manager-pass-1';
const PHONE = { width: 390, height: 844 };

describe.skipIf(!hasChromium)(
  'alerts in Chromium: a water level drops, the manager sees and acknowledges it',
  () => {
    let hub: Hub & { dataDir: string };
    let clock: FakeClock;
    let browser: Browser;
    let admin: ApiClient;
    let water: TestDevice;
    let other: TestDevice;
    const errors: string[] = [];

    async function loggedIn(viewport = { width: 1280, height: 800 }): Promise<Page> {
      const context = await browser.newContext({ viewport, locale: 'zh-CN' });
      const page = await context.newPage();
      collectErrors(page, 'li', errors);
      await page.goto(hub.httpUrl);
      await page.getByTestId('login-username').fill('li');
      await page.getByTestId('login-password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('connection').and(page.locator('[data-state="connected"]')).waitFor();
      return page;
    }

    beforeAll(async () => {
      if (!dashboardBuilt())
        throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
      ({ hub, clock } = await alertHub());
      admin = new ApiClient(hub.httpUrl);
      await admin.login();
      await admin.json('POST', '/api/sites', siteFixture(A));
      await admin.json(
        'POST',
        '/api/sites',
        siteFixture(B, { name: { zh: '橡树湾东门爱心驿站', en: 'Oak Bay' } }),
      );
      await admin.json('POST', '/api/users', {
        username: 'li',
        password: PASSWORD,
        role: 'manager',
        siteIds: [A, B],
      });
      water = await TestDevice.connect(hub, admin, A, 'water-1', 'water_dispenser');
      other = await TestDevice.connect(hub, admin, B, 'water-2', 'water_dispenser');
      await water.reading({ on: true, water_level_pct: 70 });
      await other.reading({ on: true, water_level_pct: 70 });
      browser = await launchBrowser();
    });

    afterAll(async () => {
      await browser?.close();
      await water?.end(true).catch(() => {});
      await other?.end(true).catch(() => {});
      await hub?.close();
    });

    it('the alert appears on the tile (sorted first) and on the site page; the manager acknowledges it there', async () => {
      const page = await loggedIn();
      const tile = (site: string) => page.locator(`[data-testid="site-tile"][data-site-id="${site}"]`);
      await tile(A).waitFor();
      // B sorts before A by name until A has a problem.
      await water.reading({ on: true, water_level_pct: 8 });
      await other.reading({ on: true, water_level_pct: 70 });
      await clock.advance(2 * MIN + 1000);
      const item = tile(A).locator('[data-testid="alert-item"][data-rule="water_low"]');
      await item.waitFor();
      expect(await item.getAttribute('data-state')).toBe('active');
      expect(
        await tile(A)
          .locator('[data-testid="alert-count"][data-severity="warning"]')
          .getAttribute('data-count'),
      ).toBe('1');
      expect(await tile(A).locator('[data-testid="alert-item"]').textContent()).toContain('饮水机水位低');
      const first = await page.locator('[data-testid="site-tile"]').first().getAttribute('data-site-id');
      expect(first).toBe(A);
      await screenshot(page, 'alerts-tile');

      await tile(A).getByTestId('site-link').click();
      const panel = page.getByTestId('alerts-panel');
      const panelItem = panel.locator('[data-testid="alert-item"][data-rule="water_low"]');
      await panelItem.waitFor();
      await panelItem.getByTestId('alert-ack-note').fill('已通知保洁补水');
      await panelItem.getByTestId('alert-ack').click();
      await panel.locator('[data-testid="alert-item"][data-state="acknowledged"]').waitFor();
      expect(await panelItem.getByTestId('alert-acked-by').textContent()).toContain('li');
      const [stored] = await settledAlerts(hub, admin, 'water_low');
      expect(stored).toMatchObject({ state: 'acknowledged', ackedBy: 'li', ackNote: '已通知保洁补水' });
      expect(await panelItem.getByTestId('alert-acked-by').textContent()).toContain('已通知保洁补水');
      await screenshot(page, 'alerts-site-panel');

      // Refilled: the panel clears live, with no reload.
      await water.reading({ on: true, water_level_pct: 95 });
      await other.reading({ on: true, water_level_pct: 70 });
      await clock.advance(MIN + 1000);
      await panel.getByTestId('alerts-none').waitFor();
      await page.context().close();
    });

    it('the alerts page lists the history with time to acknowledge, and fits a 390 px phone', async () => {
      const page = await loggedIn(PHONE);
      await page.getByTestId('nav-alerts').click();
      await page.getByTestId('alerts-view').waitFor();
      const item = page.locator(
        '[data-testid="alerts-list"] [data-testid="alert-item"][data-rule="water_low"]',
      );
      await item.waitFor();
      expect(await item.getAttribute('data-state')).toBe('cleared');
      expect(await page.getByTestId('alerts-stats').textContent()).toContain('确认用时中位数');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(PHONE.width);
      await screenshot(page, 'alerts-page-phone');
      await page.context().close();
      expect(errors).toEqual([]);
    });
  },
);
