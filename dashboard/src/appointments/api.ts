import type {
  AppointmentsDay,
  BookingBody,
  MaskedBooking,
  OpenedBooking,
  PublicSession,
  PublicSite,
  RescheduleBody,
  ResidentBooking,
  SessionInput,
  SessionSummary,
  TodayReply,
} from '../../../contract/index.js';
import { request } from '../http.js';

/** Appointment endpoints, for the staff panels and the public booking page; errors are ../http.ts's. */

const enc = encodeURIComponent;

/** No login: what a resident's phone calls. */
export const publicApi = {
  sites: () =>
    request<{ sites: PublicSite[]; today: string; retentionDays: number; cutoffMinutes: number }>(
      'GET',
      '/api/public/sites',
    ),
  sessions: (siteId: string, date: string) =>
    request<{ sessions: PublicSession[] }>(
      'GET',
      `/api/public/sites/${enc(siteId)}/sessions?date=${enc(date)}`,
    ).then((r) => r.sessions),
  book: (body: BookingBody) => request<ResidentBooking>('POST', '/api/public/bookings', body),
  lookup: (code: string, mobile: string) =>
    request<ResidentBooking>('POST', '/api/public/bookings/lookup', { code, mobile }),
  cancel: (code: string, mobile: string) =>
    request<ResidentBooking>('POST', '/api/public/bookings/cancel', { code, mobile }),
  reschedule: (body: RescheduleBody) =>
    request<ResidentBooking>('POST', '/api/public/bookings/reschedule', body),
};

/** Logged in: the site's manager or an admin. */
export const staffApi = {
  today: (siteId: string) => request<TodayReply>('GET', `/api/sites/${enc(siteId)}/appointments/today`),
  search: (siteId: string, q: string) =>
    request<{ bookings: MaskedBooking[] }>(
      'GET',
      `/api/sites/${enc(siteId)}/appointments/search?q=${enc(q)}`,
    ).then((r) => r.bookings),
  open: (id: number, reason?: string) =>
    request<OpenedBooking>('GET', `/api/bookings/${id}${reason ? `?reason=${enc(reason)}` : ''}`),
  checkIn: (id: number) => request<MaskedBooking>('POST', `/api/bookings/${id}/check-in`),
  summary: (siteId: string) =>
    request<AppointmentsDay>('GET', `/api/sites/${enc(siteId)}/appointments/summary`),
  sessions: (siteId: string) =>
    request<{ sessions: SessionSummary[] }>('GET', `/api/sites/${enc(siteId)}/appointment-sessions`).then(
      (r) => r.sessions,
    ),
  createSessions: (siteId: string, body: SessionInput) =>
    request<{ sessions: SessionSummary[] }>(
      'POST',
      `/api/sites/${enc(siteId)}/appointment-sessions`,
      body,
    ).then((r) => r.sessions),
  cancelSession: (id: number, reason?: string) =>
    request<SessionSummary>('POST', `/api/appointment-sessions/${id}/cancel`, reason ? { reason } : {}),
};
