import { describe, expect, it } from 'vitest';
import { appointmentsEn } from '../dashboard/src/locales/appointments.en.js';
import { appointmentsZh } from '../dashboard/src/locales/appointments.zh-CN.js';
import en from '../dashboard/src/locales/en.js';
import { langEn, langZh } from '../dashboard/src/locales/lang.js';
import zhCN from '../dashboard/src/locales/zh-CN.js';

/**
 * Issue 9: one i18n system, vue-i18n, for the staff app and the booking page. Types keep the
 * shapes alike at build time; this checks what types cannot: every key has a text in both
 * languages, and a text's {placeholders} are the same in both.
 */
function flatten(o: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof o === 'string') out.set(prefix, o);
  else if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      for (const [kk, vv] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(kk, vv);
    }
  }
  return out;
}
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

describe.each([
  ['staff app', zhCN, en],
  ['booking page', { appt: appointmentsZh, lang: langZh }, { appt: appointmentsEn, lang: langEn }],
])('locales of the %s', (_name, zh, english) => {
  const a = flatten(zh);
  const b = flatten(english);

  it('have the same keys in Chinese and English', () => {
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  });

  it('have no empty text and the same placeholders in both languages', () => {
    for (const [key, text] of a) {
      expect(text.trim(), key).not.toBe('');
      expect(b.get(key)?.trim(), key).not.toBe('');
      expect(placeholders(b.get(key) ?? ''), key).toEqual(placeholders(text));
    }
  });
});

it('the staff app holds the booking page texts under appt, so the two cannot drift', () => {
  expect(zhCN.appt).toBe(appointmentsZh);
  expect(en.appt).toBe(appointmentsEn);
});
