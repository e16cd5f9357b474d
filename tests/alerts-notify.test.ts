import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Contact } from '../contract/index.js';
import { verifySignature } from '../services/appointments/webhook.js';
import type { Hub } from '../services/hub.js';
import { alertHub, MIN, receiver, settledAlerts, TestDevice } from './helpers/alerts.js';
import type { FakeClock } from './helpers/fake-clock.js';
import { type ApiClient, adminWithSite, eventually } from './helpers/hub.js';

const SITE = 'fanghuali-n1';
const SECRET = 'webhook-secret-0123456789';
const DING_SECRET = 'SECdingtalk-signing-secret';
const FEISHU_SECRET = 'feishu-signing-secret';
let hub: Hub & { dataDir: string };
let clock: FakeClock;
let api: ApiClient;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  await hub?.close();
});

async function setup() {
  ({ hub, clock } = await alertHub());
  api = await adminWithSite(hub, SITE);
}
async function device(id: string, kind: Parameters<typeof TestDevice.connect>[4]) {
  const d = await TestDevice.connect(hub, api, SITE, id, kind);
  cleanups.push(() => d.end(true));
  return d;
}
async function contactPoint(body: Record<string, unknown>): Promise<Contact> {
  const res = await api.json<Contact>('POST', '/api/alerts/contacts', body);
  expect(res.status).toBe(201);
  return res.body;
}

describe('notifications reach each service in its documented shape', () => {
  it('webhook (signed), WeCom, DingTalk (signed) and Feishu (signed), in Chinese with site, what, since and link', async () => {
    await setup();
    const rx = await receiver();
    cleanups.push(rx.close);
    await contactPoint({
      name: 'district',
      type: 'webhook',
      url: rx.url('/webhook'),
      secret: SECRET,
      minSeverity: 'info',
    });
    await contactPoint({
      name: 'wecom',
      type: 'wecom',
      url: rx.url('/cgi-bin/webhook/send?key=k1'),
      minSeverity: 'info',
    });
    await contactPoint({
      name: 'ding',
      type: 'dingtalk',
      url: rx.url('/robot/send?access_token=t1'),
      secret: DING_SECRET,
      minSeverity: 'info',
    });
    await contactPoint({
      name: 'feishu',
      type: 'feishu',
      url: rx.url('/open-apis/bot/v2/hook/h1'),
      secret: FEISHU_SECRET,
      minSeverity: 'info',
    });
    const mw = await device('mw-1', 'microwave');
    await mw.event('fault', { code: 'E42', message: 'magnetron overheated' });
    await clock.advance(1000);
    await eventually(() => (rx.got.length >= 4 ? true : undefined));
    const by = (path: string) => rx.got.find((r) => r.path === path)!;

    const hook = by('/webhook');
    expect(hook.headers['x-yizhan-event']).toBe('alert.raised');
    expect(
      verifySignature(
        SECRET,
        {
          timestamp: String(hook.headers['x-yizhan-timestamp']),
          signature: String(hook.headers['x-yizhan-signature']),
        },
        hook.body,
      ),
    ).toBe(true);
    expect(hook.json).toMatchObject({
      type: 'alert.raised',
      alert: {
        ruleId: 'device_fault',
        siteId: SITE,
        deviceId: 'mw-1',
        severity: 'warning',
        detail: { code: 'E42' },
      },
      site: { id: SITE, name: { zh: '芳华里北门健康驿站' } },
    });
    expect(hook.json.link).toMatch(new RegExp(`/sites/${SITE}$`));

    const wecom = by('/cgi-bin/webhook/send');
    expect(wecom.query.get('key')).toBe('k1');
    expect(wecom.json.msgtype).toBe('markdown');
    const content = (wecom.json.markdown as { content: string }).content;
    for (const part of ['芳华里北门健康驿站', '设备故障', 'E42', '开始于', `/sites/${SITE}`])
      expect(content).toContain(part);

    const ding = by('/robot/send');
    const ts = ding.query.get('timestamp')!;
    expect(ding.query.get('access_token')).toBe('t1');
    const expected = createHmac('sha256', DING_SECRET).update(`${ts}\n${DING_SECRET}`).digest('base64');
    expect(ding.query.get('sign')).toBe(expected);
    expect(Math.abs(Number(ts) - Date.now())).toBeLessThan(60_000);
    expect(ding.json).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: expect.stringContaining('设备故障') },
    });

    const feishu = by('/open-apis/bot/v2/hook/h1');
    const fts = feishu.json.timestamp as string;
    expect(feishu.json.sign).toBe(
      createHmac('sha256', `${fts}\n${FEISHU_SECRET}`).update('').digest('base64'),
    );
    expect(feishu.json.msg_type).toBe('text');
    expect((feishu.json.content as { text: string }).text).toContain('芳华里北门健康驿站');

    // Delivery state is shown per alert.
    const [a] = await settledAlerts(hub, api, 'device_fault');
    await eventually(async () => {
      const r = await api.json<{ deliveries: Array<{ state: string }> }>('GET', `/api/alerts/${a!.id}`);
      return r.body.deliveries.filter((d) => d.state === 'sent').length === 4 ? true : undefined;
    });
  });

  it('a site going dark sends one message, not one per device; routing by severity', async () => {
    await setup();
    const rx = await receiver();
    cleanups.push(rx.close);
    await contactPoint({
      name: 'critical only',
      type: 'wecom',
      url: rx.url('/critical'),
      minSeverity: 'critical',
    });
    await contactPoint({ name: 'warnings', type: 'wecom', url: rx.url('/warning'), minSeverity: 'warning' });
    const ds = [
      await device('occ-1', 'occupancy_counter'),
      await device('door-1', 'door_sensor'),
      await device('water-1', 'water_dispenser'),
    ];
    for (const d of ds) d.client.stream.destroy();
    await clock.advance(3 * MIN);
    await eventually(() => (rx.got.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.got.map((r) => r.path).sort()).toEqual(['/critical', '/warning']);
    for (const r of rx.got)
      expect((r.json.markdown as { content: string }).content).toContain('站点全部设备失联');
  });

  it('repeats a critical alert still unacknowledged, escalates after N minutes, stops once acknowledged', async () => {
    await setup();
    const rx = await receiver();
    cleanups.push(rx.close);
    const second = await contactPoint({
      name: 'district duty',
      type: 'wecom',
      url: rx.url('/duty'),
      minSeverity: 'critical',
      siteIds: ['other-site'],
    });
    await contactPoint({
      name: 'manager group',
      type: 'wecom',
      url: rx.url('/group'),
      minSeverity: 'warning',
      repeatMin: 30,
      escalateToId: second.id,
      escalateAfterMin: 15,
    });
    const env = await device('env-1', 'environment_sensor');
    const keepAlive = async (minutes: number) => {
      for (let i = 0; i < minutes; i++) {
        await env.reading({ temperature_c: -5, humidity_pct: 40 });
        await clock.advance(MIN);
      }
    };
    await keepAlive(6); // freezing: critical after 5 min
    const text = (r: (typeof rx.got)[number]) => (r.json.markdown as { content: string }).content;
    // temperature_low (a warning) goes to the group too; this test follows the critical one.
    const freezing = (path: string) => rx.got.filter((r) => r.path === path && text(r).includes('冰点'));
    await eventually(() => (freezing('/group').length >= 1 ? true : undefined));
    expect(freezing('/duty')).toHaveLength(0);
    await keepAlive(15);
    await eventually(() => (freezing('/duty').length >= 1 ? true : undefined));
    expect(text(freezing('/duty')[0]!)).toContain('升级');
    await keepAlive(16); // 30 min after the first message
    await eventually(() => (freezing('/group').length >= 2 ? true : undefined));
    expect(text(freezing('/group')[1]!)).toContain('重复提醒');
    const [a] = await settledAlerts(hub, api, 'temperature_freezing');
    expect((await api.json('POST', `/api/alerts/${a!.id}/ack`, { note: '已联系物业' })).status).toBe(200);
    const before = freezing('/group').length + freezing('/duty').length;
    await keepAlive(40);
    await new Promise((r) => setTimeout(r, 200));
    expect(freezing('/group').length + freezing('/duty').length).toBe(before);
  });
});
