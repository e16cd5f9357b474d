import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../contract/index.js';
import { collectErrors, dashboardBuilt, hasChromium, launchBrowser } from './helpers/browser.js';
import { ADMIN_PASSWORD, adminWithSite, connectDevice, provision, testHub } from './helpers/hub.js';

const SITE = 'csp-1';

/** Records every CSP violation in the page from its first script on, for `violations()` to read. */
const RECORD_VIOLATIONS = () => {
  const seen: string[] = [];
  (window as unknown as { __csp: string[] }).__csp = seen;
  document.addEventListener('securitypolicyviolation', (e) =>
    seen.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
  );
};
const violations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);

describe.skipIf(!hasChromium)('security headers and a CSP the pages work under (issue 8 item 2)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!dashboardBuilt()) throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
    hub = await testHub();
    const admin = await adminWithSite(hub, SITE);
    const occ = await provision(admin, SITE, `${SITE}-occ`, 'occupancy_counter');
    // One stored reading, so the site page draws a chart rather than "no data".
    const device = await connectDevice(hub.mqttUrl, occ.device.id, occ.secret);
    const reading = { readings: [{ seq: 1, ts: Date.now(), values: { occupancy: 3 } }] };
    await device.publishAsync(topicFor(SITE, occ.device.id, 'telemetry'), JSON.stringify(reading), {
      qos: 1,
    });
    await device.endAsync();
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.addInitScript(RECORD_VIOLATIONS);
    collectErrors(page, 'csp', errors);
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('sends CSP, frame-ancestors, X-Frame-Options, nosniff and Referrer-Policy on every page', async () => {
    for (const path of ['/', '/book', `/sites/${SITE}`, '/docs', '/docs/static/index.html', '/api/config']) {
      const res = await fetch(hub.httpUrl + path);
      const h = res.headers;
      expect(h.get('content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
      expect(h.get('content-security-policy'), path).toMatch(/script-src 'self'(;|$)/);
      expect(h.get('x-frame-options'), path).toBe('DENY');
      expect(h.get('x-content-type-options'), path).toBe('nosniff');
      expect(h.get('referrer-policy'), path).toBe('no-referrer');
    }
  });

  it('logs in and shows the overview, a site page and the devices page with no CSP violation', async () => {
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    // Connected: socket.io's WebSocket got through connect-src.
    await page.getByTestId('connection').and(page.locator('[data-state="connected"]')).waitFor();
    await page.locator(`[data-testid="site-tile"][data-site-id="${SITE}"]`).waitFor();
    expect(await violations(page)).toEqual([]);

    await page.goto(`${hub.httpUrl}/sites/${SITE}`);
    await page.getByTestId('site-view').waitFor();
    // ECharts draws into a canvas and styles its boxes through the CSSOM.
    await page.locator('[data-testid^="chart-"] canvas').first().waitFor();
    expect(await violations(page)).toEqual([]);

    await page.goto(`${hub.httpUrl}/devices`);
    await page.locator('[data-testid="provision-form"]').first().waitFor();
    expect(await violations(page)).toEqual([]);
  });

  it('shows the booking page with no CSP violation', async () => {
    await page.goto(`${hub.httpUrl}/book`);
    await page.getByTestId('book-site').first().waitFor();
    expect(await violations(page)).toEqual([]);
  });

  it('shows /docs (Swagger UI) with its operations and no CSP violation', async () => {
    await page.goto(`${hub.httpUrl}/docs`);
    await page.locator('.swagger-ui .opblock').first().waitFor();
    expect(await violations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
