import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Issue 9, "seams": the dashboard once had two socket.io connections, two API error classes, two
 * i18n systems and imports from the server. These read the sources, so a second one coming back
 * fails here rather than in a review.
 */
const root = path.resolve(import.meta.dirname, '../dashboard/src');
const sources = (fs.readdirSync(root, { recursive: true }) as string[])
  .filter((f) => /\.(ts|vue)$/.test(f))
  .map((f) => ({ file: f, text: fs.readFileSync(path.join(root, f), 'utf8') }));
const where = (re: RegExp) => sources.filter((s) => re.test(s.text)).map((s) => s.file);

describe('dashboard seams', () => {
  it('imports nothing from services/ or broker/, only from contract/', () => {
    expect(where(/from '(\.\.\/)+(services|broker)\//)).toEqual([]);
  });

  it('opens one socket.io connection', () => {
    expect(where(/\bio\(/)).toEqual(['live.ts']);
  });

  it('has one API error type', () => {
    expect(where(/class \w+ extends Error/)).toEqual(['http.ts']);
  });

  it('has one i18n system: vue-i18n, with one saved language key', () => {
    expect(where(/createI18n[<(]/).sort()).toEqual(['book/i18n.ts', 'i18n.ts']);
    expect(where(/yz\.locale/)).toEqual(['locale.ts']);
    expect(where(/function fill\(/)).toEqual([]);
  });
});
