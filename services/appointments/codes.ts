import { randomInt } from 'node:crypto';
import { CODE_ALPHABET } from '../../contract/index.js';

/**
 * 8 characters from a 32-letter alphabet: 2^40 codes. A code alone opens nothing (cancel and
 * reschedule need the mobile number too) and the public API is rate-limited, so guessing is hopeless.
 */
export function newConfirmationCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** Everything but the last four digits hidden: 13812345678 → *******5678. */
export function maskMobile(mobile: string | null): string | null {
  return mobile === null ? null : `${'*'.repeat(Math.max(0, mobile.length - 4))}${mobile.slice(-4)}`;
}
