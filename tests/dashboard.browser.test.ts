import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionedDevice } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import {
  collectErrors,
  dashboardBuilt,
  hasChromium,
  launchBrowser,
  SCREENSHOT_DIR,
  screenshot,
} from './helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, connectDevice, provision, siteFixture, testHub } from './helpers/hub.js';

const A = 'fanghuali-n1';
const B = 'xiangshuwan-e1';
const C = 'dianliu-w1';
const PASSWORD = 'browser-pass-1';
const HOUR = 3_600_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const tile = (site: string) => `[data-testid="site-tile"][data-site-id="${site}"]`;

describe.skipIf(!hasChromium)(
  'dashboard in Chromium: roles, live tiles and site page, languages, phone',
  () => {
    let hub: Awaited<ReturnType<typeof testHub>>;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    const pageErrors: string[] = [];
    const dev: Record<string, ProvisionedDevice> = {};
    const mqtt: Record<string, MqttClient> = {};
    let seq = 1000;

    const publish = (id: string, values: Record<string, number | boolean>, ts = Date.now()) =>
      mqtt[id]!.publishAsync(
        topicFor(dev[id]!.device.siteId, id, 'telemetry'),
        JSON.stringify({ readings: [{ seq: ++seq, ts, values }] }),
        { qos: 1 },
      );
    const door = (type: 'door_opened' | 'door_closed', ts = Date.now()) =>
      mqtt[`${A}-door`]!.publishAsync(
        topicFor(A, `${A}-door`, 'event'),
        JSON.stringify({ events: [{ seq: ++seq, ts, type }] }),
        { qos: 1 },
      );

    /** A fresh browser context (own cookies), logged in through the login form. */
    async function loggedIn(
      username: string,
      password: string,
      viewport = DESKTOP,
      path = '/',
    ): Promise<Page> {
      const context = await browser.newContext({
        viewport,
        locale: 'zh-CN',
        // Not the hub's zone: every time on screen must still be Asia/Shanghai (HUB_TZ).
        timezoneId: 'Europe/London',
        ...(viewport === PHONE ? { isMobile: true, hasTouch: true } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      collectErrors(page, username, pageErrors);
      await page.goto(hub.httpUrl + path);
      await page.getByTestId('login-username').fill(username);
      await page.getByTestId('login-password').fill(password);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('connection').and(page.locator('[data-state="connected"]')).waitFor();
      return page;
    }

    const tileIds = (page: Page) =>
      page
        .locator('[data-testid="site-tile"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-site-id')));

    /** Every element that sticks out to the right of the viewport, outside its own scroll box. */
    const overflowing = (page: Page) =>
      page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const clipped = (el: Element) => {
          for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
          }
          return false;
        };
        const out = Array.from(document.querySelectorAll('body *'))
          .filter((el) => el.getBoundingClientRect().right > width + 1 && !clipped(el))
          .map((el) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')}`);
        return { scrollWidth: document.documentElement.scrollWidth, clientWidth: width, out };
      });

    /** Buttons, links styled as buttons, selects and text inputs smaller than 44 px to tap. */
    const smallTargets = (page: Page) =>
      page.evaluate(() =>
        Array.from(
          document.querySelectorAll(
            'button, a.btn, a.nav-link, select, input:not([type=checkbox]), [data-testid="site-link"], [data-testid="map-dot"]',
          ),
        )
          .map((el) => ({ el, r: el.getBoundingClientRect() }))
          .filter(({ r }) => r.width > 0 && r.height > 0 && (r.height < 43.5 || r.width < 43.5))
          .map(
            ({ el, r }) =>
              `${el.tagName.toLowerCase()} "${el.textContent?.trim().slice(0, 20)}" ${r.width}x${r.height}`,
          ),
      );

    beforeAll(async () => {
      if (!dashboardBuilt())
        throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
      hub = await testHub();
      const admin = new ApiClient(hub.httpUrl);
      await admin.login();
      const sites = [
        siteFixture(A),
        siteFixture(B, {
          name: { zh: '橡树湾东门爱心驿站', en: 'Oak Bay East Gate Caring Station' },
          type: 'caring',
          community: '橡树湾',
          lat: 36.6538,
          lng: 117.1342,
        }),
        siteFixture(C, {
          name: { zh: '甸柳新村西门健康驿站', en: 'Dianliu West Gate Health Station' },
          community: '甸柳新村',
          lat: 36.6571,
          lng: 117.0978,
        }),
      ];
      for (const s of sites) expect((await admin.json('POST', '/api/sites', s)).status).toBe(201);
      const kinds = [
        [`${A}-occ`, 'occupancy_counter'],
        [`${A}-door`, 'door_sensor'],
        [`${A}-env`, 'environment_sensor'],
        [`${A}-water`, 'water_dispenser'],
        [`${B}-occ`, 'occupancy_counter'],
        [`${B}-occback`, 'occupancy_counter'],
      ] as const;
      for (const [id, kind] of kinds) dev[id] = await provision(admin, id.replace(/-[a-z]+$/, ''), id, kind);
      for (const [id] of kinds) mqtt[id] = await connectDevice(hub.mqttUrl, id, dev[id]!.secret);
      for (const [username, role, siteIds] of [
        ['mgr-a', 'manager', [A]],
        ['planner', 'planner', []],
      ] as const) {
        const res = await admin.json('POST', '/api/users', { username, password: PASSWORD, role, siteIds });
        expect(res.status).toBe(201);
      }
      // Twelve hours of history for the charts, then the current state.
      const now = Date.now();
      for (let h = 12; h >= 1; h--) {
        const ts = now - h * HOUR;
        await publish(`${A}-occ`, { occupancy: (h * 5) % 9 }, ts);
        await publish(`${A}-env`, { temperature_c: 21 + (h % 5), humidity_pct: 50 + h }, ts);
        await publish(`${A}-water`, { on: true, water_level_pct: 100 - h * 6 }, ts);
        if (h % 3 === 0) await door('door_opened', ts);
      }
      await publish(`${A}-occ`, { occupancy: 4 });
      await publish(`${A}-env`, { temperature_c: 23.5, humidity_pct: 55 });
      await publish(`${A}-water`, { on: true, water_level_pct: 12 });
      await publish(`${B}-occ`, { occupancy: 2 });
      await publish(`${B}-occback`, { occupancy: 3 });
      browser = await launchBrowser();
    });

    afterAll(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close();
      for (const c of Object.values(mqtt)) await c.endAsync().catch(() => {});
      await hub?.close();
    });

    it('admin: sees every site, and the language switch changes the visible text', async () => {
      const page = await loggedIn('admin', ADMIN_PASSWORD);
      await page.locator(tile(A)).waitFor();
      expect((await tileIds(page)).sort()).toEqual([A, B, C].sort());
      await expect(page.locator('h1').textContent()).resolves.toBe('站点概览');
      await expect(page.getByTestId('nav-users').textContent()).resolves.toContain('用户管理');
      await page.locator('[data-testid="lang-switch"] [data-lang="en"]').click();
      await page.getByRole('heading', { name: 'Site overview' }).waitFor();
      await expect(page.getByTestId('nav-users').textContent()).resolves.toContain('Users');
      await expect(page.locator(`${tile(A)} [data-testid="open-state"]`).textContent()).resolves.toContain(
        'Open',
      );
      await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('en');
      // Issue 8 #14: typed names in English where given; the Chinese, marked, where not yet.
      const community = (site: string) =>
        page.locator(`${tile(site)} [data-testid="tile-community"]`).textContent();
      await expect(community(A)).resolves.toBe('Fanghuali');
      await expect(community(B)).resolves.toBe('橡树湾 [zh]');
      await screenshot(page, 'overview-en-1280');
      await page.locator('[data-testid="lang-switch"] [data-lang="zh-CN"]').click();
      await page.getByRole('heading', { name: '站点概览' }).waitFor();
      // The status filter (a count chip) narrows the tiles and is kept in the URL.
      await page.getByTestId('count-attention').click();
      await expect(tileIds(page)).resolves.toEqual([A]);
      expect(new URL(page.url()).searchParams.get('status')).toBe('attention');
    });

    it('manager sees only their sites and pages; planner sees all sites but no admin pages', async () => {
      const mgr = await loggedIn('mgr-a', PASSWORD);
      await mgr.locator(tile(A)).waitFor();
      expect(await tileIds(mgr)).toEqual([A]);
      expect(await mgr.getByTestId('nav-devices').count()).toBe(1);
      expect(await mgr.getByTestId('nav-users').count()).toBe(0);
      await mgr.goto(`${hub.httpUrl}/sites/${B}`);
      await mgr.getByTestId('site-not-found').waitFor();
      await mgr.goto(`${hub.httpUrl}/users`);
      await mgr.getByTestId('overview-view').waitFor();
      expect(new URL(mgr.url()).pathname).toBe('/');

      const planner = await loggedIn('planner', PASSWORD);
      await planner.locator(tile(C)).waitFor();
      expect((await tileIds(planner)).sort()).toEqual([A, B, C].sort());
      expect(await planner.getByTestId('nav-devices').count()).toBe(0);
      expect(await planner.getByTestId('nav-users').count()).toBe(0);
      await planner.locator(`${tile(A)} [data-testid="site-link"]`).click();
      await planner.getByTestId('site-view').waitFor();
      expect(await planner.getByTestId('manage-devices').count()).toBe(0);
    });

    it('sums the two door counters of a hut on its tile and says so', async () => {
      const page = await loggedIn('planner', PASSWORD);
      await page.locator(`${tile(B)} [data-testid="occupancy"][data-value="5"]`).waitFor();
      expect(await page.locator(`${tile(B)} [data-testid="occupancy-counters"]`).textContent()).toContain(
        '2',
      );
      expect(await page.locator(`${tile(A)} [data-testid="occupancy-counters"]`).count()).toBe(0);
    });

    it('shows a device reading on the tile and on the site page without a reload; measures publish → tile', async () => {
      const page = await loggedIn('mgr-a', PASSWORD);
      const value = page.locator(`${tile(A)} [data-testid="occupancy"]`);
      await value.and(page.locator('[data-value="4"]')).waitFor();
      await page.evaluate(() => {
        (window as unknown as { sameDocument: boolean }).sameDocument = true;
      });

      const samples: number[] = [];
      for (const n of [7, 9, 3, 8, 6]) {
        // Resolves with the page's clock when the tile's number changes (same machine, same clock).
        const changed = page.evaluate(
          ([selector, want]) =>
            new Promise<number>((resolve) => {
              const observer = new MutationObserver(() => {
                if (document.querySelector(selector!)?.getAttribute('data-value') === want) {
                  observer.disconnect();
                  resolve(Date.now());
                }
              });
              observer.observe(document.body, {
                subtree: true,
                childList: true,
                attributes: true,
                characterData: true,
              });
            }),
          [`${tile(A)} [data-testid="occupancy"]`, String(n)],
        );
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
        const sentAt = Date.now();
        await publish(`${A}-occ`, { occupancy: n });
        samples.push((await changed) - sentAt);
      }
      const sorted = [...samples].sort((a, b) => a - b);
      console.log(
        `[browser] device publish → tile changed in Chromium: ${samples.join(', ')} ms (median ${sorted[2]} ms, max ${sorted[4]} ms)`,
      );
      expect(sorted[4]).toBeLessThan(2000);

      // Into the site page by the tile's link: the same document, so nothing was reloaded.
      await page.locator(`${tile(A)} [data-testid="site-link"]`).click();
      await page.getByTestId('site-view').waitFor();
      const reading = page.locator(
        `[data-testid="device-card"][data-device-id="${A}-occ"] [data-testid="reading"][data-metric="occupancy"]`,
      );
      await reading.and(page.locator('[data-value="6"]')).waitFor();
      await publish(`${A}-occ`, { occupancy: 11 });
      await reading.and(page.locator('[data-value="11"]')).waitFor({ timeout: 3000 });

      const doorsBefore = Number(await page.getByTestId('door-total').getAttribute('data-total'));
      // Counted once the day's history has arrived, not while the list is still filling.
      await page.locator('[data-testid="door-timeline"][data-loaded="true"]').waitFor();
      const eventsBefore = await page.getByTestId('door-event').count();
      const openedAt = Date.now();
      await door('door_opened', openedAt);
      await page
        .locator(`[data-testid="door-total"][data-total="${doorsBefore + 1}"]`)
        .waitFor({ timeout: 3000 });
      await expect.poll(() => page.getByTestId('door-event').count()).toBe(eventsBefore + 1);
      // Shown in the hub's zone (Asia/Shanghai), not the browser's (Europe/London).
      const shanghai = new Intl.DateTimeFormat('zh-CN', {
        timeZone: 'Asia/Shanghai',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(openedAt);
      await expect(page.locator('[data-testid="door-event"] time').first().textContent()).resolves.toContain(
        shanghai,
      );
      await expect(page.getByTestId('site-door').textContent()).resolves.toBe('开着');
      await door('door_closed');
      await page.getByTestId('site-door').and(page.getByText('关着')).waitFor({ timeout: 3000 });
      expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
        true,
      );
    });

    it('manager provisions a device in the UI; the secret shown connects over MQTT', async () => {
      const page = await loggedIn('mgr-a', PASSWORD, DESKTOP, `/devices?site=${A}`);
      await page.getByTestId('devices-view').waitFor();
      await page.getByTestId('provision-id').fill(`${A}-cab`);
      await page.getByTestId('provision-kind').selectOption('lending_cabinet');
      await page.getByTestId('provision-submit').click();
      const secret = (await page.getByTestId('device-secret').textContent())!.trim();
      const example = (await page.getByTestId('mqtt-example').textContent())!;
      const port = Number(new URL(hub.mqttUrl).port);
      expect(example).toContain(`mosquitto_pub -h 127.0.0.1 -p ${port} -i ${A}-cab -u ${A}-cab`);
      expect(example).toContain(`yz/v1/${A}/${A}-cab/telemetry`);
      const cab = await connectDevice(hub.mqttUrl, `${A}-cab`, secret);
      await cab.endAsync();
      const item = page.locator(`[data-testid="device-admin"][data-device-id="${A}-cab"]`);
      await item.getByTestId('toggle-enabled').click();
      await item.and(page.locator('[data-enabled="false"]')).waitFor();
    });

    it("a phone shows who is logged in, faults, refusals and firmware in the reader's language", async () => {
      const water = `${A}-water`;
      await mqtt[`${A}-env`]!.publishAsync(
        topicFor(A, `${A}-env`, 'status'),
        JSON.stringify({ online: true, fw: 'yz-sim/1.0.0', rssi: -60 }),
        { qos: 1, retain: true },
      );
      await mqtt[water]!.publishAsync(
        topicFor(A, water, 'event'),
        JSON.stringify({
          events: [
            { seq: ++seq, ts: Date.now(), type: 'fault', code: 'E_HEATER', message: 'simulated E_HEATER' },
          ],
        }),
        { qos: 1 },
      );
      await mqtt[`${A}-occ`]!.publishAsync(
        topicFor(A, `${A}-occ`, 'telemetry'),
        JSON.stringify({ readings: [{ seq: ++seq, ts: Date.now(), values: { occupancy: -1 } }] }),
        { qos: 1 },
      );

      const page = await loggedIn('mgr-a', PASSWORD, PHONE, `/sites/${A}`);
      // Issue 8 #15: the phone header keeps the user and their role.
      const who = page.getByTestId('current-user');
      expect(await who.isVisible()).toBe(true);
      expect(await who.textContent()).toMatch(/mgr-a · 站点管理员/);

      // Issue 8 #14: the fault code in Chinese; the device's own English only as the detail.
      const fault = page.locator(
        `[data-testid="device-card"][data-device-id="${water}"] [data-testid="device-fault"]`,
      );
      await expect.poll(() => fault.textContent()).toContain('加热故障');
      const detail = (await fault.getByTestId('fault-detail').textContent()) ?? '';
      expect((await fault.textContent())?.replace(detail, '')).not.toContain('simulated');

      // The firmware label stays on one line: "yz-sim/1.0.0", not "yz-/sim/1.0.0".
      const fw = page.locator(
        `[data-testid="device-card"][data-device-id="${A}-env"] [data-testid="device-fw"]`,
      );
      await expect.poll(() => fw.textContent()).toContain('yz-sim/1.0.0');
      expect(await fw.evaluate((el) => el.getClientRects().length)).toBe(1);
      expect(await overflowing(page)).toMatchObject({ out: [] });
      await fault.scrollIntoViewIfNeeded();
      await screenshot(page, 'site-390-fault');

      // Issue 8 #10: the refused reading named by field and reason, in Chinese.
      await page.goto(`${hub.httpUrl}/devices?site=${A}`);
      const refused = page.locator(
        `[data-testid="device-admin"][data-device-id="${A}-occ"] [data-testid="last-ingest-error"]`,
      );
      await expect
        .poll(() => refused.textContent())
        .toContain('第 1 条读数 · 在站人数 (occupancy): 不能小于 0');
      expect(await refused.textContent()).toContain('消息内容不符合设备约定');
      expect(await overflowing(page)).toMatchObject({ out: [] });
      await refused.scrollIntoViewIfNeeded();
      await screenshot(page, 'devices-390-refused');
    });

    it('admin creates a user in the UI', async () => {
      const page = await loggedIn('admin', ADMIN_PASSWORD, PHONE, '/users');
      await page.getByTestId('users-view').waitFor();
      await page.getByTestId('user-username').fill('planner-2');
      await page.getByTestId('user-password').fill(PASSWORD);
      // Issue 8 #15: a manager's sites are found by search, not by scrolling through every hut.
      await page.getByTestId('user-role').selectOption('manager');
      await page.getByTestId('site-search').fill('橡树');
      const visibleSites = () =>
        page
          .locator('[data-testid="site-picker"] input[type="checkbox"]')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-site-id')));
      await expect.poll(visibleSites).toEqual([B]);
      await screenshot(page, 'users-390-site-search');
      await page.getByTestId('site-search').fill('dianliu');
      await expect.poll(visibleSites).toEqual([C]);
      await page.getByTestId('user-role').selectOption('planner');
      await page.getByTestId('user-submit').click();
      await page
        .locator('[data-testid="user-item"][data-username="planner-2"][data-role="planner"]')
        .waitFor();
      expect(await overflowing(page)).toMatchObject({ out: [] });
      expect(await smallTargets(page)).toEqual([]);
      await screenshot(page, 'users-390');
    });

    it('screenshots at 1280×800 and 390×844; no horizontal scroll and 44 px targets on a phone', async () => {
      for (const [size, viewport] of [
        ['1280', DESKTOP],
        ['390', PHONE],
      ] as const) {
        const page = await loggedIn('admin', ADMIN_PASSWORD, viewport);
        await page.locator(tile(A)).waitFor();
        await screenshot(page, `overview-${size}`);
        if (viewport === PHONE) {
          const o = await overflowing(page);
          expect(o.scrollWidth).toBeLessThanOrEqual(o.clientWidth);
          expect(o.out).toEqual([]);
          expect(await smallTargets(page)).toEqual([]);
        }
        await page.getByTestId('view-map').click();
        await page.getByTestId('map-dot').first().waitFor();
        expect(await page.getByTestId('map-dot').count()).toBe(3);
        await screenshot(page, `overview-map-${size}`);
        if (viewport === PHONE) expect(await overflowing(page)).toMatchObject({ out: [] });
        await page.locator(`[data-testid="map-dot"][data-site-id="${A}"]`).click();
        await page.getByTestId('site-view').waitFor();
        await page.locator('[data-testid="chart-occupancy"] canvas').waitFor();
        await screenshot(page, `site-${size}`);
        await page.screenshot({ path: `${SCREENSHOT_DIR}/site-${size}-full.png`, fullPage: true });
        if (viewport === PHONE) {
          const o = await overflowing(page);
          expect(o.scrollWidth).toBeLessThanOrEqual(o.clientWidth);
          expect(o.out).toEqual([]);
          expect(await smallTargets(page)).toEqual([]);
          await page.getByTestId('nav-devices').click();
          await page.getByTestId('provision-form').waitFor();
          expect(await overflowing(page)).toMatchObject({ out: [] });
          expect(await smallTargets(page)).toEqual([]);
          await screenshot(page, 'devices-390');
        }
      }
      expect(pageErrors).toEqual([]);
    });
  },
);
