import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../contract/index.js';
import { collectErrors, dashboardBuilt, hasChromium, launchBrowser, screenshot } from './helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, connectDevice, provision, siteFixture, testHub } from './helpers/hub.js';

const SITE = 'finder-fhl';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const PASSWORD = 'manager-pass-1';

/**
 * Issue 16 end to end: a rider scans the site's QR code (its /stations/<id> link) on a phone,
 * sees the station usable, rates it, and the manager's open site page shows the comment live.
 */
describe.skipIf(!hasChromium)('station finder in Chromium: QR link on a phone, manager live', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let browser: Browser;
  let device: MqttClient;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function newPage(viewport: typeof PHONE, name: string): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      locale: 'zh-CN',
      ...(viewport === PHONE ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    contexts.push(context);
    // Every CSP violation from the first script on (the finder must work under the hub's CSP).
    await context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __csp: string[] }).__csp = seen;
      document.addEventListener('securitypolicyviolation', (e) =>
        seen.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
      );
    });
    const page = await context.newPage();
    collectErrors(page, name, pageErrors);
    return page;
  }

  beforeAll(async () => {
    if (!dashboardBuilt()) throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
    hub = await testHub();
    const admin = new ApiClient(hub.httpUrl);
    await admin.login();
    expect((await admin.json('POST', '/api/sites', siteFixture(SITE))).status).toBe(201);
    await admin.json(
      'POST',
      '/api/sites',
      siteFixture('finder-other', { community: { zh: '甸柳', en: 'Dianliu' } }),
    );
    await admin.json('POST', '/api/users', {
      username: 'manager-f',
      password: PASSWORD,
      role: 'manager',
      siteIds: [SITE],
    });
    const water = await provision(admin, SITE, `${SITE}-water`, 'water_dispenser');
    device = await connectDevice(hub.mqttUrl, water.device.id, water.secret);
    await device.publishAsync(
      topicFor(SITE, water.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq: 1, ts: Date.now(), values: { on: true, water_level_pct: 80 } }] }),
      { qos: 1 },
    );
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await device?.endAsync();
    await hub?.close();
  });

  it('a visitor opens the QR link, sees it usable, rates it, and the manager sees it live', async () => {
    const manager = await newPage(DESKTOP, 'manager');
    await manager.goto(`${hub.httpUrl}/sites/${SITE}`);
    await manager.getByTestId('login-username').fill('manager-f');
    await manager.getByTestId('login-password').fill(PASSWORD);
    await manager.getByTestId('login-submit').click();
    const panel = manager.getByTestId('feedback-panel');
    await panel.waitFor();
    expect(await manager.getByTestId('site-poster').getAttribute('href')).toBe(
      `/api/sites/${SITE}/poster.svg`,
    );

    const phone = await newPage(PHONE, 'phone');
    await phone.goto(`${hub.httpUrl}/stations/${SITE}`);
    const card = phone.getByTestId('finder-focus').getByTestId(`station-${SITE}`);
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('usable');
    expect(await card.getByTestId('station-state').textContent()).toBe('现在可用');
    expect(await card.getByTestId('station-book').getAttribute('href')).toBe('/book');
    // The other station is listed too; nothing is wider than the phone.
    await phone.getByTestId('station-finder-other').waitFor();
    const width = await phone.evaluate(() => [
      document.documentElement.scrollWidth,
      document.documentElement.clientWidth,
    ]);
    expect(width[0]).toBeLessThanOrEqual(width[1]!);

    await phone.getByTestId('rating-4').check({ force: true });
    await phone.getByTestId('tag-clean').check();
    await phone.getByTestId('feedback-comment').fill('热水很方便，谢谢');
    await phone.getByTestId('feedback-submit').click();
    await phone.getByTestId('feedback-thanks').waitFor();
    expect(await phone.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    await screenshot(phone, 'finder-phone');

    await expect
      .poll(() => panel.getByTestId('feedback-item-comment').first().textContent(), { timeout: 5000 })
      .toBe('热水很方便，谢谢');

    // Live, without a reload: the tank runs dry and the open page says what is missing.
    await device.publishAsync(
      topicFor(SITE, `${SITE}-water`, 'telemetry'),
      JSON.stringify({ readings: [{ seq: 2, ts: Date.now(), values: { on: true, water_level_pct: 1 } }] }),
      { qos: 1 },
    );
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 20_000 }).toBe('partly');
    expect(await card.getByTestId('station-missing').textContent()).toContain('没有热水');

    // A second try the same day from the same phone is refused with words, not a crash.
    await phone.reload();
    await phone.getByTestId('rating-2').check({ force: true });
    await phone.getByTestId('feedback-submit').click();
    expect(await phone.getByTestId('feedback-error').textContent()).toBe('今天已经评价过这个驿站了');
    expect(pageErrors.filter((e) => !e.includes('409'))).toEqual([]);
    pageErrors.length = 0;
  });

  it("the planners' red and black list page shows the sites and links the CSV", async () => {
    const page = await newPage(DESKTOP, 'admin');
    await page.goto(`${hub.httpUrl}/watchlist`);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('watchlist-view').waitFor();
    await expect.poll(() => page.getByTestId('watchlist-row').count()).toBe(2);
    expect(await page.getByTestId('watchlist-csv').getAttribute('href')).toMatch(/format=csv$/);
    expect(pageErrors).toEqual([]);
  });
});
