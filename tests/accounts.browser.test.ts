import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askHub } from '../services/admin/control-socket.js';
import { createSession, mobile, publicJson, WEBHOOK_SECRET } from './helpers/appointments.js';
import { collectErrors, dashboardBuilt, hasChromium, launchBrowser, screenshot } from './helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, siteFixture, testHub } from './helpers/hub.js';
import { freePorts } from './helpers/hub-process.js';

const PHONE = { width: 390, height: 844 };

describe.skipIf(!hasChromium)('own account and the outbox in Chromium, on a phone, in both languages', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!dashboardBuilt()) throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
    // The receiver is down: a booking's notification waits in the outbox with its error.
    const [closed] = await freePorts(1);
    hub = await testHub({
      WEBHOOK_URL: `http://127.0.0.1:${closed}/hook`,
      WEBHOOK_SECRET,
      WEBHOOK_RETRY_BASE_MS: 60_000,
    });
    const admin = new ApiClient(hub.httpUrl);
    await admin.login();
    await admin.json('POST', '/api/users', {
      username: 'dora',
      password: 'dora-password-1',
      role: 'planner',
    });
    await admin.json('POST', '/api/sites', siteFixture('acc-1'));
    const s = await createSession(admin, 'acc-1', { date: '2031-03-03' });
    await publicJson(hub.httpUrl, 'POST', '/api/public/bookings', {
      sessionId: s.id,
      slotStartAt: s.slots[0]!.startAt,
      name: '居民',
      mobile: mobile(9100),
      screening: 'blood_pressure',
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  const phone = async (name: string, locale: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: PHONE, locale, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    collectErrors(page, name, errors);
    return page;
  };
  const login = async (page: Page, username: string, password: string) => {
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
  };
  const fits = (page: Page) =>
    page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

  it('makes a user with a one-time password choose a new one, then changes it from My account', async () => {
    const reply = await askHub(path.join(hub.dataDir, 'hub.sock'), {
      op: 'reset-password',
      username: 'dora',
    });
    const oneTime = (reply as { ok: true; result: { password: string } }).result.password;

    const page = await phone('dora', 'zh-CN');
    await login(page, 'dora', oneTime);
    const forced = page.getByTestId('forced-password-change');
    await forced.waitFor();
    expect(await forced.locator('h1').textContent()).toBe('请设置新密码');
    expect(await page.getByTestId('current-user').count()).toBe(0);
    expect(await fits(page)).toBe(true);
    await screenshot(page, 'account-forced-zh-390');

    await page.getByTestId('password-current').fill(oneTime);
    await page.getByTestId('password-new').fill('dora-password-2');
    await page.getByTestId('password-repeat').fill('dora-password-3');
    await page.getByTestId('password-submit').click();
    expect(await page.getByTestId('password-error').getAttribute('data-code')).toBe('MISMATCH');
    await page.getByTestId('password-repeat').fill('dora-password-2');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('connection').and(page.locator('[data-state="connected"]')).waitFor();

    // My account, in English.
    await page.getByTestId('current-user').click();
    await page.getByTestId('account-view').waitFor();
    await page.getByTestId('lang-switch').getByText('English').click();
    await page.getByText('My account', { exact: true }).waitFor();
    await page.getByTestId('password-current').fill('wrong-password');
    await page.getByTestId('password-new').fill('dora-password-4');
    await page.getByTestId('password-repeat').fill('dora-password-4');
    await page.getByTestId('password-submit').click();
    const refused = page.locator('[data-testid="password-error"][data-code="BAD_CREDENTIALS"]');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('Current password');
    await page.getByTestId('password-current').fill('dora-password-2');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('password-done').waitFor();
    expect(await fits(page)).toBe(true);
    await screenshot(page, 'account-en-390');
    expect((await new ApiClient(hub.httpUrl).login('dora', 'dora-password-4')).status).toBe(200);
  }, 60_000);

  it('shows admins the waiting notification with its last error', async () => {
    const page = await phone('admin', 'en');
    await login(page, 'admin', ADMIN_PASSWORD);
    await page.getByTestId('nav-outbox').click();
    const item = page.locator('[data-testid="outbox-item"][data-state="pending"]');
    await item.first().waitFor();
    expect(await item.getByTestId('outbox-error').first().textContent()).toMatch(
      /Last error: .*(fetch failed|ECONNREFUSED)/,
    );
    expect(await page.getByTestId('outbox-pending').textContent()).toContain('1 waiting');
    expect(await fits(page)).toBe(true);
    await screenshot(page, 'outbox-en-390');
    expect(errors).toEqual([]);
  }, 60_000);
});
