import { ApiRequestError, errorCode } from './api.js';
import { i18n } from './i18n.js';

export interface FormError {
  code: string;
  message: string;
  /** "Label: server message" for each field the server named. */
  fields: string[];
}

/**
 * A failed form submit as the form shows it: the translated code, and the fields the server
 * named (body.siteIds.0 → the label of siteIds) with the server's message.
 */
export function formError(err: unknown, label: (field: string) => string): FormError {
  const { t, te } = i18n.global;
  const code = errorCode(err);
  const message = te(`error.${code}`) ? t(`error.${code}`) : t('error.generic', { code });
  const fields =
    err instanceof ApiRequestError
      ? (err.body.fields ?? []).map((f) => `${label(f.path.split('.')[1] ?? f.path)}: ${f.message}`)
      : [];
  return { code, message, fields };
}
