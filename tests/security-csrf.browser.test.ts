import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../contract/index.js';
import { dashboardBuilt, hasChromium, launchBrowser } from './helpers/browser.js';
import { ADMIN_PASSWORD, type ApiClient, adminWithSite, provision, testHub } from './helpers/hub.js';

const SITE = 'forge-1';
const DEVICE = `${SITE}-door`;

/** A page of the same site on another port: what issue 8 says could disable a device. */
function attackerPages(hubUrl: string): Record<string, string> {
  return {
    '/form': `<form method="POST" enctype="text/plain" action="${hubUrl}/api/devices/${DEVICE}/disable">
      <input name='{"x":"' value='"}'></form><script>document.forms[0].submit()</script>`,
    '/frame': `<iframe src="${hubUrl}/devices" width="800" height="600"></iframe>`,
    '/blank': '<p>nothing here</p>',
  };
}

/**
 * Opens socket.io's WebSocket by hand from the page it runs in and resolves with what came back:
 * the snapshot event if the hub let the (cookie-bearing) handshake in, or the close.
 */
function liveHandshake(wsUrl: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl);
    ws.onmessage = (m) => {
      const text = String(m.data);
      if (text.startsWith('0')) ws.send('40');
      if (text.startsWith('42["snapshot"')) {
        ws.close();
        resolve('snapshot');
      }
      if (text.startsWith('44')) resolve(`refused ${text}`);
    };
    ws.onclose = (e) => resolve(`closed ${e.code}`);
  });
}

describe.skipIf(!hasChromium)(
  'forged requests from a page on another port, in Chromium (issue 8 item 1)',
  () => {
    let hub: Awaited<ReturnType<typeof testHub>>;
    let admin: ApiClient;
    let attacker: http.Server;
    let attackerUrl: string;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;

    const enabled = async () =>
      (await admin.json<{ devices: Device[] }>('GET', `/api/devices?siteId=${SITE}`)).body.devices.find(
        (d) => d.id === DEVICE,
      )?.enabled;

    beforeAll(async () => {
      if (!dashboardBuilt())
        throw new Error('dashboard/dist is missing: run `npx vite build dashboard` first');
      hub = await testHub();
      admin = await adminWithSite(hub, SITE);
      await provision(admin, SITE, DEVICE, 'door_sensor');
      const pages = attackerPages(hub.httpUrl);
      attacker = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).end(pages[req.url ?? ''] ?? '');
      });
      await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
      attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
      browser = await launchBrowser();
      context = await browser.newContext();
      // The victim is logged in to the hub in this browser.
      const login = await context.request.post(`${hub.httpUrl}/api/auth/login`, {
        data: { username: 'admin', password: ADMIN_PASSWORD },
        headers: { origin: hub.httpUrl },
      });
      expect(login.status()).toBe(200);
      page = await context.newPage();
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => attacker?.close(r));
      await hub?.close();
    });

    it('a text/plain form auto-submitted from another port is refused and the device stays enabled', async () => {
      const landed = page.waitForResponse((r) => r.url().startsWith(`${hub.httpUrl}/api/devices/`));
      await page.goto(`${attackerUrl}/form`);
      const res = await landed;
      // The cookie did travel (same site): only the CSRF check stood in the way.
      expect(res.request().headers().cookie ?? (await res.request().allHeaders()).cookie).toMatch(
        /yz_session=/,
      );
      expect(res.status()).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('CSRF_REFUSED');
      expect(await enabled()).toBe(true);
    });

    it('the devices page will not render inside a frame of another page', async () => {
      await page.goto(`${attackerUrl}/frame`);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame).toBeDefined();
      await frame!.waitForLoadState();
      expect(frame!.url()).not.toContain('/devices');
      expect(await frame!.locator('#app').count()).toBe(0);
    });

    it("socket.io refuses another page's cookie-bearing WebSocket, and still serves the hub's own", async () => {
      const ws = `${hub.httpUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
      await page.goto(`${attackerUrl}/blank`);
      expect(await page.evaluate(liveHandshake, ws)).not.toBe('snapshot');
      await page.goto(`${hub.httpUrl}/book`);
      expect(await page.evaluate(liveHandshake, ws)).toBe('snapshot');
    });
  },
);
