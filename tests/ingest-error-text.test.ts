import { describe, expect, it } from 'vitest';
import { createI18n } from 'vue-i18n';
import { ingestErrorCodes } from '../contract/index.js';
import { ingestErrorText, type Translate } from '../dashboard/src/ingest-error-text.js';
import en from '../dashboard/src/locales/en.js';
import zhCN from '../dashboard/src/locales/zh-CN.js';
import { checkPayload } from '../services/ingest/validate.js';
import type { DeviceRecord } from '../services/state/devices.js';

/** Issue 8 #10: refusal reasons reach the Chinese UI as Chinese, by code and field. */
function translator(locale: 'zh-CN' | 'en'): Translate {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': zhCN, en } });
  return { t: (k, n) => i18n.global.t(k, n ?? {}), te: (k) => i18n.global.te(k) };
}
const zh = translator('zh-CN');
const latin = /[A-Za-z]{4,}/;

const device = { id: 'yz-001-water', kind: 'water_dispenser' } as DeviceRecord;
const limits = { maxPayloadBytes: 65_536, maxFutureMs: 60_000, maxAgeMs: 30 * 86_400_000 };
const now = 1_764_115_200_000;
/** The hub's own message for a payload, so the test follows the validator's wording. */
function refusal(channel: 'telemetry' | 'event' | 'status', body: unknown) {
  const r = checkPayload(device, channel, Buffer.from(JSON.stringify(body)), limits, now);
  if (r.ok) throw new Error('expected a refusal');
  return { code: r.code, lastMessage: r.message };
}

describe('ingest error text', () => {
  it('every ingest code (and AUTH_FAILED) has a sentence in both languages', () => {
    for (const code of [...ingestErrorCodes, 'AUTH_FAILED']) {
      for (const tr of [zh, translator('en')]) {
        expect(tr.te(`ingestDetail.${code}`), code).toBe(true);
        expect(tr.te(`ingestError.${code}`), code).toBe(true);
      }
    }
    expect(zh.t('ingestError.AUTH_FAILED')).toBe('密钥错误');
    expect(translator('en').t('ingestError.AUTH_FAILED')).toBe('wrong secret');
  });

  it('PAYLOAD_INVALID names the field and the reason in Chinese, without the validator English', () => {
    const cases = [
      { readings: [{ seq: 1, ts: now, values: { on: true, water_level_pct: -1 } }] },
      { readings: [{ seq: 1.5, ts: now, values: { on: 'x', water_level_pct: 50, foo: 1 } }] },
      { readings: [{ ts: now, values: {} }] },
      { readings: [] },
      { readings: [{ seq: 1, ts: now + 10_000_000, values: { on: true, water_level_pct: 5 } }] },
      { readings: [{ seq: 1, ts: 5, values: { on: true, water_level_pct: 5 } }] },
    ];
    for (const body of cases) {
      const text = ingestErrorText(refusal('telemetry', body), zh);
      expect(text.fields.length).toBeGreaterThan(0);
      for (const f of text.fields) {
        // Field keys stay visible in brackets for the technician; the words around them are Chinese.
        expect(f.reason.replace(/[(（].*?[)）]/g, ''), f.reason).not.toMatch(latin);
        expect(f.field.replace(/\(.*?\)/g, ''), f.field).not.toMatch(latin);
      }
    }
    const low = ingestErrorText(refusal('telemetry', cases[0]), zh);
    expect(low.fields).toEqual([
      { field: '第 1 条读数 · 水位 (water_level_pct)', reason: '不能小于 0（须 >= 0）' },
    ]);
  });

  it('events, status and unknown texts are still shown, translated where known', () => {
    const ev = ingestErrorText(refusal('event', { events: [{ seq: 1, ts: now, type: 'nope' }] }), zh);
    expect(ev.fields[0]?.field).toBe('第 1 条事件 · 事件类型 (type)');
    expect(ev.fields[0]?.reason).toMatch(/^不是允许的值/);
    const st = ingestErrorText(refusal('status', { online: true, rssi: 5 }), zh);
    expect(st.fields[0]).toEqual({ field: '信号强度 (rssi)', reason: '不能大于 0（须 <= 0）' });
    const odd = ingestErrorText({ code: 'PAYLOAD_INVALID', lastMessage: 'something new' }, zh);
    expect(odd.fields[0]?.reason).toBe('其他问题：something new');
    expect(ingestErrorText({ code: 'NEW_CODE', lastMessage: 'x' }, zh).sentence).toBe(
      '消息被拒绝（NEW_CODE）。',
    );
    expect(ingestErrorText({ code: 'AUTH_FAILED', lastMessage: 'x' }, zh).fields).toEqual([]);
  });
});
