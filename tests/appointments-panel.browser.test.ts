import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectErrors, dashboardBuilt, hasChromium, launchBrowser } from './helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, siteFixture, testHub } from './helpers/hub.js';

/** A caring station (爱心驿站) has no doctors: its site page must not offer 安排坐诊. */
describe.skipIf(!hasChromium)('appointments panel in Chromium: screening only where doctors are', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!dashboardBuilt()) throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
    hub = await testHub();
    const admin = new ApiClient(hub.httpUrl);
    await admin.login();
    for (const s of [siteFixture('rest-1', { type: 'caring' }), siteFixture('fhl-n1', { type: 'health' })]) {
      expect((await admin.json('POST', '/api/sites', s)).status).toBe(201);
    }
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('offers 安排坐诊 at a health station and not at a caring station', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    collectErrors(page, 'admin', pageErrors);
    await page.goto(`${hub.httpUrl}/sites/fhl-n1`);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('appointments-panel').waitFor();
    await page.getByTestId('sessions-editor-toggle').waitFor();

    // The same app, another site: client-side navigation keeps the live connection and its sites.
    await page.evaluate(() => {
      history.pushState({}, '', '/sites/rest-1');
      dispatchEvent(new PopStateEvent('popstate'));
    });
    await page.locator('[data-testid="appointments-panel"][data-site-id="rest-1"]').waitFor();
    await page.getByTestId('sessions-editor-toggle').waitFor({ state: 'detached', timeout: 5000 });
    expect(pageErrors).toEqual([]);
  });
});
