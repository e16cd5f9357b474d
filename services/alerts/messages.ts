import { createHmac } from 'node:crypto';
import { type Alert, type Delivery, deviceKinds, isoLocal, type Site } from '../../contract/index.js';
import { signBody } from '../appointments/webhook.js';
import type { ContactRow } from './repo.js';

/** What happened, in Chinese, per rule; custom threshold rules fall back to their metric. */
const RULE_ZH: Record<string, string> = {
  device_offline: '设备离线',
  site_dark: '站点全部设备失联（断网或断电）',
  water_low: '饮水机水位低',
  temperature_freezing: '室内温度低于冰点',
  temperature_low: '室内温度过低',
  temperature_high: '室内温度过高',
  humidity_high: '室内湿度过高',
  humidity_low: '室内湿度过低',
  over_seats: '人数超过座位数',
  umbrellas_empty: '雨伞已借完',
  raincoats_empty: '雨衣已借完',
  ac_on_closed: '闭站后空调仍在运行',
  door_open_long: '门长时间未关',
  door_after_hours: '非开放时间门被打开',
  device_fault: '设备故障',
  refused_messages: '设备消息被频繁拒收（固件异常）',
  auth_failures: '设备登录频繁失败（密钥错误）',
};
const SEVERITY_ZH = { critical: '严重', warning: '警告', info: '提示' } as const;
const REASON_ZH: Record<Delivery['reason'], string> = {
  raised: '',
  repeat: '【重复提醒·仍未确认】',
  escalation: '【升级·长时间未确认】',
  cleared: '【已恢复】',
};

export interface Message {
  title: string;
  /** Markdown, as WeCom and DingTalk render it. */
  markdown: string;
  /** Plain text, for Feishu's text message and the webhook's `text`. */
  text: string;
  link: string;
}

export function ruleLabelZh(a: Pick<Alert, 'ruleId' | 'detail'>): string {
  return RULE_ZH[a.ruleId] ?? `${a.detail.metric ?? a.ruleId} 超出阈值`;
}

function what(a: Alert): string {
  const label = ruleLabelZh(a);
  const d = a.detail;
  if (a.type === 'threshold' && a.value !== null) {
    const op = d.op === 'below' ? '低于' : '高于';
    return `${label}：当前 ${a.value}，${op} ${d.limit}`;
  }
  if (a.type === 'over_seats' && a.value !== null) return `${label}：${a.value} 人，座位 ${d.seats} 个`;
  if (a.type === 'fault') return `${label}：${d.code ?? ''} ${d.message ?? ''}`.trim();
  if (a.type === 'refused_rate') return `${label}：${a.value} 次（${d.code ?? ''}）`;
  if (a.type === 'site_dark') return `${label}：${d.devices} 台设备`;
  return label;
}

/** The message every contact point gets: the site, what happened, since when, and a link. */
export function composeMessage(
  a: Alert,
  site: Site | undefined,
  reason: Delivery['reason'],
  timeZone: string,
  publicUrl: string,
): Message {
  const siteName = site?.name.zh ?? a.siteId;
  const at = (ms: number) => isoLocal(ms, timeZone).slice(0, 16).replace('T', ' ');
  const kind =
    typeof a.detail.kind === 'string' ? deviceKinds[a.detail.kind as keyof typeof deviceKinds] : undefined;
  const link = `${publicUrl.replace(/\/$/, '')}/sites/${encodeURIComponent(a.siteId)}`;
  const title = `${REASON_ZH[reason]}【${SEVERITY_ZH[a.severity]}】${siteName} · ${ruleLabelZh(a)}`;
  const lines = [
    `站点：${siteName}${site ? `（${site.community.zh}）` : ''}`,
    ...(a.deviceId ? [`设备：${a.deviceId}${kind ? `（${kind.label.zh}）` : ''}`] : []),
    `情况：${what(a)}`,
    `开始于：${at(a.since)}`,
    ...(reason === 'cleared' && a.endedAt ? [`恢复于：${at(a.endedAt)}`] : []),
    `查看：${link}`,
  ];
  return {
    title,
    markdown: [`### ${title}`, ...lines.map((l) => `> ${l}`)].join('\n'),
    text: [title, ...lines].join('\n'),
    link,
  };
}

export interface Request {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * One message in each service's documented shape:
 * - webhook: our booking webhook's scheme (services/appointments/webhook.ts): X-Yizhan-Signature =
 *   `sha256=` hex HMAC-SHA256(secret, `${timestamp}.${body}`).
 * - WeCom group robot (developer.work.weixin.qq.com/document/path/91770): `{msgtype:'markdown',
 *   markdown:{content}}` to the robot's URL (its key is in the URL).
 * - DingTalk custom robot (open.dingtalk.com, 自定义机器人安全设置·加签): `{msgtype:'markdown',
 *   markdown:{title,text}}`; with a secret, `timestamp` (ms) and `sign` = urlencode(base64(
 *   HMAC-SHA256(secret, timestamp + "\n" + secret))) are added to the query.
 * - Feishu custom bot (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): `{msg_type:'text',
 *   content:{text}}`; with a secret, `timestamp` (s) and `sign` = base64(HMAC-SHA256 keyed with
 *   timestamp + "\n" + secret, of the empty string) go in the body.
 */
export function buildRequest(
  contact: Pick<ContactRow, 'type' | 'url' | 'secret'>,
  message: Message,
  webhook: { deliveryId: string; event: string; payload: object },
  nowMs: number,
): Request {
  const json = { 'content-type': 'application/json' };
  switch (contact.type) {
    case 'wecom':
      return {
        url: contact.url,
        headers: json,
        body: JSON.stringify({ msgtype: 'markdown', markdown: { content: message.markdown } }),
      };
    case 'dingtalk': {
      let url = contact.url;
      if (contact.secret) {
        const sign = dingTalkSign(contact.secret, nowMs);
        url += `${url.includes('?') ? '&' : '?'}timestamp=${nowMs}&sign=${encodeURIComponent(sign)}`;
      }
      return {
        url,
        headers: json,
        body: JSON.stringify({
          msgtype: 'markdown',
          markdown: { title: message.title, text: message.markdown },
        }),
      };
    }
    case 'feishu': {
      const ts = Math.floor(nowMs / 1000);
      const signed = contact.secret ? { timestamp: String(ts), sign: feishuSign(contact.secret, ts) } : {};
      return {
        url: contact.url,
        headers: json,
        body: JSON.stringify({ ...signed, msg_type: 'text', content: { text: message.text } }),
      };
    }
    default: {
      const ts = Math.floor(nowMs / 1000);
      const body = JSON.stringify(webhook.payload);
      return {
        url: contact.url,
        headers: {
          ...json,
          'x-yizhan-event': webhook.event,
          'x-yizhan-delivery': webhook.deliveryId,
          'x-yizhan-timestamp': String(ts),
          'x-yizhan-signature': signBody(contact.secret ?? '', ts, body),
        },
        body,
      };
    }
  }
}

export function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

/** WeCom and DingTalk answer 200 with `errcode`, Feishu with `code`: non-zero is a failure. */
export function serviceError(type: string, body: string): string | null {
  if (type === 'webhook') return null;
  try {
    const r = JSON.parse(body) as { errcode?: number; code?: number; errmsg?: string; msg?: string };
    const code = r.errcode ?? r.code ?? 0;
    return code === 0 ? null : `${code} ${r.errmsg ?? r.msg ?? ''}`.trim();
  } catch {
    return null;
  }
}
