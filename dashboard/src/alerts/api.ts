import type {
  Alert,
  AlertList,
  Contact,
  ContactInput,
  Delivery,
  EffectiveRule,
  RuleBody,
  Silence,
  SilenceInput,
} from '../../../contract/index.js';
import { request } from '../http.js';

const enc = encodeURIComponent;
function query(q: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  return p.toString();
}

/** The alerts API (services/alerts/routes*.ts). */
export const alertsApi = {
  list: (q: {
    siteId?: string;
    community?: string;
    severity?: string;
    state?: string;
    from?: number;
    to?: number;
    limit?: number;
  }) => request<AlertList>('GET', `/api/alerts?${query(q)}`),
  one: (id: number) => request<{ alert: Alert; deliveries: Delivery[] }>('GET', `/api/alerts/${id}`),
  ack: (id: number, note?: string) => request<Alert>('POST', `/api/alerts/${id}/ack`, note ? { note } : {}),
  resolve: (id: number, note: string) => request<Alert>('POST', `/api/alerts/${id}/resolve`, { note }),
  rules: (siteId: string, deviceId?: string) =>
    request<{ rules: EffectiveRule[] }>('GET', `/api/alerts/rules?${query({ siteId, deviceId })}`).then(
      (r) => r.rules,
    ),
  setRule: (ruleId: string, siteId: string, deviceId: string | undefined, body: RuleBody) =>
    request<{ rules: EffectiveRule[] }>('PUT', `/api/alerts/rules/${enc(ruleId)}`, {
      siteId,
      ...(deviceId && { deviceId }),
      body,
    }).then((r) => r.rules),
  resetRule: (ruleId: string, siteId: string, deviceId?: string) =>
    request<void>('DELETE', `/api/alerts/rules/${enc(ruleId)}?${query({ siteId, deviceId })}`),
  silences: (siteId?: string) =>
    request<{ silences: Silence[] }>('GET', `/api/alerts/silences?${query({ siteId })}`).then(
      (r) => r.silences,
    ),
  addSilence: (s: SilenceInput) => request<Silence>('POST', '/api/alerts/silences', s),
  removeSilence: (id: number) => request<void>('DELETE', `/api/alerts/silences/${id}`),
  contacts: () => request<{ contacts: Contact[] }>('GET', '/api/alerts/contacts').then((r) => r.contacts),
  addContact: (c: Partial<ContactInput>) => request<Contact>('POST', '/api/alerts/contacts', c),
  updateContact: (id: number, c: Partial<ContactInput>) =>
    request<Contact>('PUT', `/api/alerts/contacts/${id}`, c),
  removeContact: (id: number) => request<void>('DELETE', `/api/alerts/contacts/${id}`),
};
