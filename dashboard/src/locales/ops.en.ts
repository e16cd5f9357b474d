import type { opsZh } from './ops.zh-CN.js';

export const opsEn: typeof opsZh = {
  account: {
    heading: 'My account',
    signedInAs: 'Signed in as {username} ({role})',
    change: 'Change password',
    current: 'Current password',
    next: 'New password',
    repeat: 'New password again',
    hint: 'At least 8 characters. Your sessions on other devices end when you change it.',
    mismatch: 'The two new passwords differ',
    submit: 'Change password',
    done: 'Password changed; your other sessions have ended.',
    forcedHeading: 'Choose a new password',
    forcedIntro: 'You signed in with a one-time password from an admin. Choose your own to go on.',
  },
  outbox: {
    heading: 'Notifications out',
    intro:
      'Booking notifications and alert messages on their way. Failed attempts are retried with growing pauses, also after a restart.',
    pending: '{n} waiting',
    failed: '{n} given up',
    all: 'All',
    state: {
      pending: 'Waiting',
      sent: 'Delivered',
      failed: 'Given up',
    },
    attempts: '{n} attempts',
    next: 'next try {time}',
    lastError: 'Last error: {error}',
    created: 'queued {time}',
    empty: 'No notifications',
    refresh: 'Refresh',
  },
};
