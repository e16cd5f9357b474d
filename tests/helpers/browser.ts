import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it. Without it the browser tests skip and say so. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}

export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-results/screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // The closed network refuses Chromium's background connections; these flags stop it trying.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Adds what goes wrong in `page` to `errors`, each line starting with `name`: uncaught errors and
 * console errors. Chromium also logs every failed request (a 401 from /api/auth/me before logging
 * in is expected); those are left out.
 */
export function collectErrors(page: Page, name: string, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(`${name}: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      errors.push(`${name}: ${m.text()}`);
    }
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** The dashboard must be built for the hub to serve it; tests build it once if it is missing. */
export function dashboardBuilt(): boolean {
  return fs.existsSync(path.resolve(import.meta.dirname, '../../dashboard/dist/index.html'));
}
