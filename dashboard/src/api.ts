import type {
  AppConfig,
  AppointmentsDay,
  Device,
  DeviceInput,
  EventRow,
  IngestErrorCount,
  OutboxReply,
  ProvisionedDevice,
  RangePoint,
  Site,
  SiteLive,
  User,
  UserCreate,
  UserUpdate,
} from '../../contract/index.js';
import { ApiRequestError, request } from './http.js';

export { ApiRequestError, errorCode } from './http.js';

export const api = {
  login: (username: string, password: string) =>
    request<{ user: User }>('POST', '/api/auth/login', { username, password }).then((r) => r.user),
  logout: () => request<void>('POST', '/api/auth/logout'),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<{ user: User }>('POST', '/api/auth/password', { currentPassword, newPassword }).then(
      (r) => r.user,
    ),
  outbox: (state?: 'pending' | 'sent' | 'failed') =>
    request<OutboxReply>('GET', `/api/admin/outbox${state ? `?${query({ state })}` : ''}`),
  /** Resolves to null when there is no valid session. */
  me: () =>
    request<{ user: User }>('GET', '/api/auth/me').then(
      (r) => r.user,
      (err: unknown) => {
        if (err instanceof ApiRequestError && err.status === 401) return null;
        throw err;
      },
    ),
  sites: () => request<{ sites: Site[] }>('GET', '/api/sites').then((r) => r.sites),
  live: () => request<{ live: SiteLive[]; staleAfterMs: number; serverTime: number }>('GET', '/api/live'),
  config: () => request<AppConfig>('GET', '/api/config'),
  /** Today's screening sessions of every visible site that has any (counts only, any role). */
  appointmentsSummary: () =>
    request<{ date: string; days: AppointmentsDay[] }>('GET', '/api/appointments/summary'),
  site: (id: string) => request<{ site: Site; devices: Device[] }>('GET', `/api/sites/${enc(id)}`),

  range: (q: { siteId: string; metric: string; from: number; to: number; bucketMs: number; agg: string }) =>
    request<{ points: RangePoint[] }>('GET', `/api/telemetry/range?${query(q)}`).then((r) => r.points),
  eventCounts: (q: { siteId: string; type: string; from: number; to: number; bucketMs: number }) =>
    request<{ points: RangePoint[] }>('GET', `/api/telemetry/event-counts?${query(q)}`).then((r) => r.points),
  events: (q: { siteId: string; type?: string; from: number; to: number; limit: number }) =>
    request<{ events: EventRow[] }>('GET', `/api/telemetry/events?${query(q)}`).then((r) => r.events),

  devices: (siteId: string) =>
    request<{ devices: Device[] }>('GET', `/api/devices?${query({ siteId })}`).then((r) => r.devices),
  ingestErrors: (siteId: string) =>
    request<{ errors: IngestErrorCount[] }>('GET', `/api/ingest/errors?${query({ siteId })}`).then(
      (r) => r.errors,
    ),
  provision: (siteId: string, input: DeviceInput) =>
    request<ProvisionedDevice>('POST', `/api/sites/${enc(siteId)}/devices`, input),
  setEnabled: (deviceId: string, enabled: boolean) =>
    request<Device>('POST', `/api/devices/${enc(deviceId)}/${enabled ? 'enable' : 'disable'}`),
  rotateSecret: (deviceId: string) =>
    request<ProvisionedDevice>('POST', `/api/devices/${enc(deviceId)}/rotate-secret`),

  users: () => request<{ users: User[] }>('GET', '/api/users').then((r) => r.users),
  createUser: (body: UserCreate) => request<User>('POST', '/api/users', body),
  updateUser: (id: number, body: UserUpdate) => request<User>('PATCH', `/api/users/${id}`, body),
  resetPassword: (id: number, password: string) =>
    request<void>('POST', `/api/users/${id}/password`, { password }),
  deleteUser: (id: number) => request<void>('DELETE', `/api/users/${id}`),
};

const enc = encodeURIComponent;
function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  return p.toString();
}
