import fs from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeagueReply } from '../contract/index.js';
import { demoDevices, demoSites } from '../devices/demo-fleet.js';
import { backfillDemoHistory } from '../devices/demo-history-backfill.js';
import { provisionFleet } from '../devices/provision.js';
import { collectErrors, dashboardBuilt, hasChromium, launchBrowser, screenshot } from './helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, testHub } from './helpers/hub.js';

const PASSWORD = 'trends-pass-1';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Unrolled history makes answers slow on a busy machine; the page shows them when they come. */
const WAIT = { timeout: 60_000 };
// Three demo huts in three communities; the manager has the first only.
const sites = demoSites(3);
const [mine, ...others] = sites.map((s) => s.id) as [string, ...string[]];

describe.skipIf(!hasChromium)('trends page in Chromium: planners, managers, export, phone', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function loggedIn(username: string, password: string, viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      locale: 'zh-CN',
      timezoneId: 'Europe/London',
      acceptDownloads: true,
      ...(viewport === PHONE ? { isMobile: true, hasTouch: true } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    collectErrors(page, username, pageErrors);
    await page.goto(`${hub.httpUrl}/`);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('connection').and(page.locator('[data-state="connected"]')).waitFor();
    await page.getByTestId('nav-trends').click();
    await page.getByTestId('trends-view').waitFor();
    await page.locator('[data-testid="league-row"]').first().waitFor({ timeout: 90_000 });
    return page;
  }

  const leagueIds = (page: Page) =>
    page
      .locator('[data-testid="league-row"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-site')));
  const column = (page: Page, kpi: string) =>
    page
      .locator(`[data-testid="league-row"] td[data-kpi="${kpi}"]`)
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));

  beforeAll(async () => {
    if (!dashboardBuilt()) throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
    // Answers come from the raw tail (real-time path): rolling five weeks of backfill takes minutes.
    hub = await testHub({ ROLLUP_EVERY_S: 3600 });
    await provisionFleet(hub.httpUrl, { username: 'admin', password: ADMIN_PASSWORD }, sites, demoDevices);
    // Eight days of the demo's simulated life, written as the demo writes it. Not more: unrolled
    // weeks make every analytics answer take tens of seconds on a loaded machine (see notes).
    const devices = sites.flatMap((s) =>
      demoDevices(s).map((d) => ({
        siteId: s.id,
        deviceId: d.id,
        kind: d.kind,
        seats: s.seats,
        openingHours: s.openingHours,
      })),
    );
    await backfillDemoHistory(hub.telemetry, {
      dataDir: hub.config.dataDir,
      deviceIds: devices.map((d) => d.deviceId),
      devices: () => devices,
      now: Date.now(),
      days: 8,
    });
    const admin = new ApiClient(hub.httpUrl);
    await admin.login();
    for (const [username, role, siteIds] of [
      ['planner-1', 'planner', []],
      ['manager-1', 'manager', [mine]],
    ] as const) {
      const res = await admin.json('POST', '/api/users', { username, password: PASSWORD, role, siteIds });
      expect(res.status).toBe(201);
    }
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await hub?.close();
  });

  it('planner: picks the last 30 days, sorts the league table, downloads the CSV it shows', async () => {
    const page = await loggedIn('planner-1', PASSWORD);
    await page.getByTestId('trends-range').selectOption('last7');
    await page.locator('[data-testid="trends-range-shown"]').waitFor();
    await page.getByTestId('trends-range').selectOption('last30');
    const shown = page.getByTestId('trends-range-shown');
    await expect.poll(async () => shown.getAttribute('data-from'), WAIT).not.toBeNull();
    const from = (await shown.getAttribute('data-from'))!;
    const to = (await shown.getAttribute('data-to'))!;
    await expect.poll(async () => (await shown.textContent())?.includes('近 30 天'), WAIT).toBe(true);
    expect((Date.parse(to) - Date.parse(from)) / 86_400_000).toBe(29);
    expect(page.url()).toContain('range=last30');

    // Every site, with real figures from the weeks of history.
    expect((await leagueIds(page)).sort()).toEqual(sites.map((s) => s.id).sort());
    expect(Math.min(...(await column(page, 'occupancyHours')))).toBeGreaterThan(0);

    // Sort by door openings: most first, then (second click) fewest first.
    // The table is what the API answered for that sort (its reply names it), not the old rows.
    const answered = (order: string) =>
      page.locator(`[data-testid="league"][data-sort="doorOpenings"][data-order="${order}"]`).waitFor(WAIT);
    await page.getByTestId('league-sort-doorOpenings').click();
    await answered('desc');
    expect(
      await page.locator('th[aria-sort="descending"] [data-testid="league-sort-doorOpenings"]').count(),
    ).toBe(1);
    const desc = await column(page, 'doorOpenings');
    expect(desc.every((x, i) => i === 0 || desc[i - 1]! >= x)).toBe(true);
    await page.getByTestId('league-sort-doorOpenings').click();
    await answered('asc');
    const asc = await column(page, 'doorOpenings');
    expect(asc).toEqual([...desc].reverse());
    expect(asc[0]!).toBeLessThan(asc.at(-1)!);
    const order = await leagueIds(page);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-league-csv').click(),
    ]);
    expect(download.suggestedFilename()).toBe(`league-${from}-${to}.csv`);
    const csv = await fs.readFile((await download.path())!, 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const [header, first] = csv.slice(1).split(/\r?\n/);
    expect(header!.split(',').slice(0, 8)).toEqual([
      'rank',
      'site_id',
      'site_name_zh',
      'site_name_en',
      'community_zh',
      'community_en',
      'occupancyHours',
      'peakOccupancy',
    ]);
    // The first row is the first row on screen: the fewest door openings, as sorted.
    const cells = first!.split(',');
    const site = sites.find((s) => s.id === order[0])!;
    expect(cells.slice(0, 3)).toEqual(['1', site.id, site.name.zh]);
    const doors = (await column(page, 'doorOpenings'))[0]!;
    expect(Number(cells[header!.split(',').indexOf('doorOpenings')])).toBe(doors);

    // The same through the API: the page asked for exactly this.
    const api = new ApiClient(hub.httpUrl);
    await api.login('planner-1', PASSWORD);
    const league = await (
      await api.request('GET', '/api/analytics/league?range=last30&sort=doorOpenings&order=asc')
    ).json();
    expect((league as LeagueReply).rows.map((r) => r.siteId)).toEqual(order);

    // A device series: water levels, daily, over the same 30 days.
    await page.getByTestId('export-series-metric').selectOption('water_level_pct');
    await page.getByTestId('export-series-grain').selectOption('day');
    const [series] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-series-csv').click(),
    ]);
    expect(series.suggestedFilename()).toBe('series-water_level_pct-day.csv');
    const rows = (await fs.readFile((await series.path())!, 'utf8'))
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    expect(rows[0]).toBe('bucket_local,bucket_ms,site_id,device_id,metric,count,mean,min,max,sum,last');
    expect(rows.length).toBeGreaterThan(8);
    for (const row of rows.slice(1)) {
      const cells = row.split(',');
      expect(cells[0]).toMatch(/^\d{4}-\d\d-\d\d 00:00:00$/);
      expect(cells[4]).toBe('water_level_pct');
      expect(sites.map((x) => x.id)).toContain(cells[2]);
    }
    await screenshot(page, 'trends-planner-desktop');
  }, 240_000);

  it('at 390 px: no horizontal overflow; the English switch changes the page', async () => {
    const page = await loggedIn('planner-1', PASSWORD, PHONE);
    await page.getByTestId('trends-kpis').waitFor();
    await page.locator('[data-testid="trend-chart"] canvas').waitFor();
    const overflow = await page.evaluate(() => {
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
      return { scrollWidth: document.documentElement.scrollWidth, out };
    });
    expect(overflow).toEqual({ scrollWidth: PHONE.width, out: [] });
    await screenshot(page, 'trends-390-zh');

    await expect(page.locator('h1').textContent()).resolves.toBe('使用趋势');
    await page.locator('[data-testid="lang-switch"] [data-lang="en"]').click();
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('Usage trends');
    await expect.poll(() => page.getByTestId('nav-trends').textContent(), WAIT).toContain('Trends');
    await expect
      .poll(() => page.getByTestId('trends-range-shown').textContent(), WAIT)
      .toContain('Last 30 days');
    expect(await page.getByTestId('league-sort-doorOpenings').textContent()).toContain('Door openings');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(PHONE.width);
    await screenshot(page, 'trends-390-en');
  }, 180_000);

  it('manager: sees only their own site, in the table, the filters and the figures', async () => {
    const page = await loggedIn('manager-1', PASSWORD);
    expect(await leagueIds(page)).toEqual([mine]);
    const options = await page
      .locator('[data-testid="trends-site"] option')
      .evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value).filter(Boolean));
    expect(options).toEqual([mine]);
    const communities = await page.locator('[data-testid="trends-communities"] tbody tr').count();
    expect(communities).toBe(1);
    // Another site's figures answer 404, as if it did not exist.
    const api = new ApiClient(hub.httpUrl);
    await api.login('manager-1', PASSWORD);
    expect((await api.request('GET', `/api/analytics/kpis?sites=${others[0]}`)).status).toBe(404);
  }, 180_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
