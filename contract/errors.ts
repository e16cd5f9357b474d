/**
 * Every error code the hub emits, with its HTTP status. Tests assert on `code`, never on text.
 */
export const errorCodes = {
  VALIDATION: 400,
  BAD_CREDENTIALS: 401,
  /** Too many wrong passwords in a row for this account (LOGIN_LOCK_AFTER): locked for LOGIN_LOCK_MIN. */
  ACCOUNT_LOCKED: 423,
  /** Logged in with a one-time password: only changing it is allowed until then. */
  PASSWORD_CHANGE_REQUIRED: 403,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  /** A state-changing request a page of another origin could have forged (issue 8): not JSON, or a foreign Origin. */
  CSRF_REFUSED: 403,
  NOT_FOUND: 404,
  SITE_NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  DEVICE_BUSY: 429,
  USER_NOT_FOUND: 404,
  SITE_EXISTS: 409,
  DEVICE_EXISTS: 409,
  USER_EXISTS: 409,
  /** An admin may not delete or demote themself: someone must be left who can manage users. */
  CANNOT_CHANGE_SELF: 409,
  RANGE_TOO_LARGE: 400,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
  // Screening appointments (services/appointments/).
  RATE_LIMITED: 429,
  SESSION_NOT_FOUND: 404,
  SESSION_OUTSIDE_HOURS: 400,
  SESSION_OVERLAP: 400,
  SESSION_IN_PAST: 400,
  SESSION_ENDED: 409,
  SESSION_HAS_BOOKINGS: 409,
  CAPACITY_BELOW_BOOKED: 409,
  SESSION_CANCELLED: 409,
  SLOT_NOT_FOUND: 404,
  SLOT_CLOSED: 409,
  SLOT_FULL: 409,
  SCREENING_NOT_OFFERED: 400,
  ALREADY_BOOKED: 409,
  BOOKING_NOT_FOUND: 404,
  BOOKING_NOT_ACTIVE: 409,
  ALREADY_CHECKED_IN: 409,
  CHECK_IN_NOT_TODAY: 409,
  /** A caring station (爱心驿站) has no doctors: sessions are planned at health stations only. */
  SCREENING_NOT_AT_SITE: 409,
  // Station feedback (services/feedback/, issue 16).
  /** This phone browser already rated this site today. */
  FEEDBACK_ALREADY_GIVEN: 409,
  /** A comment with words the hub does not publish to staff (abuse, insults). */
  FEEDBACK_REFUSED: 400,
  FEEDBACK_NOT_FOUND: 404,
  // Alerts (services/alerts/).
  ALERT_NOT_FOUND: 404,
  ALERT_NOT_OPEN: 409,
  RULE_NOT_FOUND: 404,
  SILENCE_NOT_FOUND: 404,
  CONTACT_NOT_FOUND: 404,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldError {
  path: string;
  message: string;
}

export class HubError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
    this.statusCode = errorCodes[code];
  }
}

/**
 * Why an MQTT message was refused. Counted per device and shown through the API, so a station
 * manager can tell a misconfigured device from a broken one.
 */
export const ingestErrorCodes = [
  'TOPIC_NOT_ALLOWED',
  'SUBSCRIBE_NOT_ALLOWED',
  'PACKET_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_NOT_JSON',
  'PAYLOAD_INVALID',
  'RATE_LIMITED',
  'STORE_FAILED',
  /** A login with a known device id and the wrong secret: a misconfigured device, or someone guessing. */
  'AUTH_FAILED',
] as const;
export type IngestErrorCode = (typeof ingestErrorCodes)[number];
