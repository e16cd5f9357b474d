import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, createSession } from './helpers/appointments.js';
import {
  collectErrors,
  dashboardBuilt,
  hasChromium,
  launchBrowser,
  SCREENSHOT_DIR,
  screenshot,
} from './helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, siteFixture, testHub } from './helpers/hub.js';

const SITE = 'fanghuali-n1';
const DAY = '2031-03-03';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const PASSWORD = 'manager-pass-1';

/** Every element wider than the viewport that is not inside its own scroll box. */
const overflow = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')}`);
    return { scrollWidth: document.documentElement.scrollWidth, width, out };
  });

/** Tap targets under 44 px (radio and checkbox inputs sit inside 48 px labels). */
const smallTargets = (page: Page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll('button, select, input:not([type=radio]):not([type=checkbox])'))
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && r.height > 0 && (r.height < 43.5 || r.width < 43.5))
      .map(
        ({ el, r }) =>
          `${el.tagName.toLowerCase()} "${el.textContent?.trim().slice(0, 20)}" ${r.width}x${r.height}`,
      ),
  );

describe.skipIf(!hasChromium)('screening booking in Chromium: resident on a phone, manager live', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  // The hub's clock runs from 08:00 on a fixed day, so the test does not depend on the time it runs.
  const t0 = Date.now();
  const now = () => at(DAY, '08:00') + (Date.now() - t0);

  async function newPage(viewport: typeof PHONE, name: string): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      locale: 'zh-CN',
      timezoneId: 'Europe/London',
      ...(viewport === PHONE ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    collectErrors(page, name, pageErrors);
    return page;
  }

  beforeAll(async () => {
    if (!dashboardBuilt()) throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
    hub = await testHub({ BOOKING_CUTOFF_MIN: 30 }, { now });
    const admin = new ApiClient(hub.httpUrl);
    await admin.login();
    expect(
      (
        await admin.json(
          'POST',
          '/api/sites',
          siteFixture(SITE, { openingHours: { open: '07:00', close: '21:00' } }),
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await admin.json(
          'POST',
          '/api/sites',
          siteFixture('dianliu-w1', {
            name: { zh: '甸柳新村西门健康驿站', en: 'Dianliu West Gate Health Station' },
          }),
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await admin.json('POST', '/api/users', {
          username: 'manager-fhl',
          password: PASSWORD,
          role: 'manager',
          siteIds: [SITE],
        })
      ).status,
    ).toBe(201);
    const manager = new ApiClient(hub.httpUrl);
    await manager.login('manager-fhl', PASSWORD);
    await createSession(manager, SITE, {
      date: DAY,
      start: '10:00',
      end: '12:00',
      slotMinutes: 30,
      capacityPerSlot: 3,
      screenings: ['blood_pressure', 'blood_glucose', 'bmi'],
      doctorName: '王建国',
    });
    await createSession(manager, SITE, {
      date: '2031-03-05',
      start: '14:00',
      end: '15:00',
      doctorName: '李医生',
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await hub?.close();
  });

  it('a resident books on the phone page and the manager sees it live, then checks them in', async () => {
    // The manager's site page is open before the resident books.
    const manager = await newPage(DESKTOP, 'manager');
    // One socket.io connection per page (issue 9): the appointments panel shares the dashboard's.
    const handshakes: string[] = [];
    const isHandshake = (url: string) => url.includes('/socket.io/') && !url.includes('sid=');
    manager.on('request', (r) => isHandshake(r.url()) && handshakes.push(r.url()));
    manager.on('websocket', (ws) => isHandshake(ws.url()) && handshakes.push(ws.url()));
    await manager.goto(`${hub.httpUrl}/sites/${SITE}`);
    await manager.getByTestId('login-username').fill('manager-fhl');
    await manager.getByTestId('login-password').fill(PASSWORD);
    await manager.getByTestId('login-submit').click();
    const panel = manager.getByTestId('appointments-panel');
    await panel.waitFor();
    await expect.poll(() => panel.getByTestId('appointments-booked').textContent()).toBe('0/12');
    await manager.locator('[data-testid="appointments-live"].on').waitFor();
    expect(handshakes).toHaveLength(1);

    // The admin's overview on a phone: the tile counts today's screening; a site without sessions shows none.
    const overview = await newPage(PHONE, 'overview');
    await overview.goto(hub.httpUrl);
    await overview.getByTestId('login-username').fill('admin');
    await overview.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await overview.getByTestId('login-submit').click();
    const tileLine = overview.locator(
      `[data-testid="site-tile"][data-site-id="${SITE}"] [data-testid="tile-appointments"]`,
    );
    await tileLine.waitFor();
    expect(await tileLine.getAttribute('data-booked')).toBe('0');
    expect(await tileLine.getAttribute('data-capacity')).toBe('12');
    expect(
      await overview
        .locator('[data-testid="site-tile"][data-site-id="dianliu-w1"] [data-testid="tile-appointments"]')
        .count(),
    ).toBe(0);

    const phone = await newPage(PHONE, 'resident');
    await phone.goto(`${hub.httpUrl}/book`);
    await expect.poll(() => phone.locator('h1').textContent()).toBe('慢病筛查预约');
    await phone.locator(`[data-testid="book-site"][data-site-id="${SITE}"]`).waitFor();
    await screenshot(phone, 'book-1-sites-zh');
    expect(await overflow(phone)).toMatchObject({ scrollWidth: PHONE.width, out: [] });
    expect(await smallTargets(phone)).toEqual([]);

    await phone.locator(`[data-testid="book-site"][data-site-id="${SITE}"]`).click();
    await phone.locator(`[data-testid="book-day"][data-date="${DAY}"]`).waitFor();
    await phone.locator('[data-testid="book-slot"][data-start="10:30"]').waitFor();
    await screenshot(phone, 'book-2-slots-zh');
    expect(await overflow(phone)).toMatchObject({ scrollWidth: PHONE.width, out: [] });
    expect(await smallTargets(phone)).toEqual([]);
    await phone.locator('[data-testid="book-slot"][data-start="10:30"]').tap();

    await phone.getByTestId('book-name').fill('欧阳娜娜');
    await phone.getByTestId('book-mobile').fill('137 1234 5671');
    await phone.locator('[data-screening="blood_glucose"]').tap();
    await screenshot(phone, 'book-3-form-zh');
    expect(await overflow(phone)).toMatchObject({ scrollWidth: PHONE.width, out: [] });
    expect(await smallTargets(phone)).toEqual([]);
    await phone.getByTestId('book-submit').tap();
    await phone.getByTestId('book-done').waitFor();
    const code = (await phone.getByTestId('book-code').textContent())!.trim();
    expect(code).toMatch(/^[2-9A-HJ-NP-Z]{8}$/);
    await screenshot(phone, 'book-4-done-zh');
    expect(await overflow(phone)).toMatchObject({ scrollWidth: PHONE.width, out: [] });

    // Live on the manager's page: no reload.
    const row = panel.locator(`[data-testid="appointment-booking"][data-code="${code}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.getByTestId('appointment-mobile').textContent()).toBe('*******5671');
    await expect.poll(() => panel.getByTestId('appointments-booked').textContent()).toBe('1/12');
    await screenshot(manager, 'book-5-manager-live');
    // …and on the overview tile, also without a reload.
    await expect.poll(() => tileLine.getAttribute('data-booked')).toBe('1');

    // Find by the last four digits and check in.
    await panel.getByTestId('appointments-search').fill('5671');
    await panel.getByTestId('appointments-search').press('Enter');
    await expect.poll(() => panel.getByTestId('appointment-booking').count()).toBe(1);
    await row.getByTestId('appointment-check-in').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('checked_in');
    await expect.poll(() => panel.getByTestId('appointments-checked-in').textContent()).toBe('1');
    await screenshot(manager, 'book-6-manager-checked-in');
    await expect.poll(() => tileLine.getAttribute('data-checked-in')).toBe('1');
    expect((await tileLine.textContent())?.replace(/\s+/g, ' ').trim()).toBe('今日筛查 1/12 · 已签到 1');
    await tileLine.scrollIntoViewIfNeeded();
    await screenshot(overview, 'book-6a-overview-phone');
    expect(await overflow(overview)).toMatchObject({ scrollWidth: PHONE.width, out: [] });

    // The manager on a phone: the panel and the session planner fit the width.
    await manager.setViewportSize(PHONE);
    await panel.getByTestId('sessions-editor-toggle').click();
    await panel.getByTestId('sessions-editor').waitFor();
    await panel.scrollIntoViewIfNeeded();
    const box = await panel.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await panel.screenshot({ path: `${SCREENSHOT_DIR}/book-6b-manager-panel-phone.png` });

    // The resident sees it too, in English.
    await phone.getByRole('button', { name: 'English' }).tap();
    await expect.poll(() => phone.locator('h1').textContent()).toBe('Health screening booking');
    await phone.getByRole('button', { name: 'Manage this booking' }).tap();
    await phone.getByTestId('book-mine').waitFor();
    await expect.poll(() => phone.getByTestId('book-status').textContent()).toBe('Checked in');
    await screenshot(phone, 'book-7-mine-en');
    expect(await overflow(phone)).toMatchObject({ scrollWidth: PHONE.width, out: [] });
    expect(await smallTargets(phone)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('tells the resident clearly when the last place went to someone else first', async () => {
    const phone = await newPage(PHONE, 'resident-2');
    await phone.goto(`${hub.httpUrl}/book`);
    await phone.locator(`[data-testid="book-site"][data-site-id="${SITE}"]`).click();
    await phone.locator('[data-testid="book-slot"][data-start="11:00"]').tap();
    // Meanwhile the slot fills up.
    const sessions = await fetch(`${hub.httpUrl}/api/public/sites/${SITE}/sessions?date=${DAY}`).then(
      (r) =>
        r.json() as Promise<{
          sessions: Array<{ id: number; slots: Array<{ start: string; startAt: number }> }>;
        }>,
    );
    const s = sessions.sessions[0]!;
    const slot = s.slots.find((x) => x.start === '11:00')!;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${hub.httpUrl}/api/public/bookings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          sessionId: s.id,
          slotStartAt: slot.startAt,
          name: `居民${i}`,
          mobile: `1390000000${i}`,
          screening: 'bmi',
        }),
      });
      expect(res.status).toBe(201);
    }
    await phone.getByTestId('book-name').fill('司马光明');
    await phone.getByTestId('book-mobile').fill('15887654322');
    await phone.locator('[data-screening="bmi"]').tap();
    await phone.getByTestId('book-submit').tap();
    await expect
      .poll(() => phone.getByTestId('book-error').textContent())
      .toBe('该时段已约满，请选择其他时段');
    await screenshot(phone, 'book-8-full-zh');
    await phone.getByTestId('book-pick-another').tap();
    await expect
      .poll(() => phone.locator('[data-testid="book-slot"][data-start="11:00"]').isDisabled())
      .toBe(true);

    // A number already booked in this session is told so once, at the number (issue 8 #15).
    await phone.locator('[data-testid="book-slot"]:not([disabled])').first().tap();
    await phone.getByTestId('book-name').fill('居民零');
    await phone.getByTestId('book-mobile').fill('13900000000');
    await phone.locator('[data-screening="bmi"]').tap();
    await phone.getByTestId('book-submit').tap();
    await expect
      .poll(() => phone.getByTestId('book-mobile-hint').textContent())
      .toBe('该手机号在本次坐诊已有预约');
    expect(await phone.getByTestId('book-error').count()).toBe(0);
    await screenshot(phone, 'book-9-already-booked-zh');
    expect(pageErrors).toEqual([]);
  });
});
