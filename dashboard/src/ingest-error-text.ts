import type { IngestErrorCount } from '../../contract/index.js';

/** The reader's translation functions, as vue-i18n's `useI18n()` or `i18n.global` give them. */
export interface Translate {
  t(key: string, named?: Record<string, unknown>): string;
  te(key: string): boolean;
}

/** One refused field, in the reader's words: where it is, and what is wrong with it. */
export interface FieldProblem {
  field: string;
  reason: string;
}

export interface IngestErrorText {
  /** A sentence per code, e.g. "The message does not follow the device contract". */
  sentence: string;
  /** For PAYLOAD_INVALID: each field the hub named, translated; empty for other codes. */
  fields: FieldProblem[];
}

/**
 * A refused message as a station manager can read it (issue 8 #10). The hub records the
 * validator's English text (`readings.0.values.occupancy: Too small: expected number to be >=0`,
 * at most three `path: reason` parts joined by "; ", or "timestamp … s in the future"); that text
 * is stable enough to parse, so the ingest record stays as it is. Anything not recognised is shown
 * as the raw text after a translated "other" reason, never dropped.
 */
export function ingestErrorText(
  e: Pick<IngestErrorCount, 'code' | 'lastMessage'>,
  tr: Translate,
): IngestErrorText {
  const key = `ingestDetail.${e.code}`;
  const sentence = tr.te(key) ? tr.t(key) : tr.t('ingestDetail.unknown', { code: e.code });
  if (e.code !== 'PAYLOAD_INVALID') return { sentence, fields: [] };
  return { sentence, fields: e.lastMessage.split('; ').map((part) => fieldProblem(part, tr)) };
}

function fieldProblem(part: string, tr: Translate): FieldProblem {
  const time = /^timestamp -?\d+ is (\d+) (s in the future|days old)$/.exec(part);
  if (time) {
    const reason = time[2] === 'days old' ? 'old' : 'future';
    return { field: tr.t('ingestField.ts'), reason: tr.t(`ingestReason.${reason}`, { n: time[1] }) };
  }
  const at = /^([\w.]+|\(root\)): (.+)$/.exec(part);
  if (!at) return { field: '', reason: tr.t('ingestReason.other', { text: part }) };
  return { field: fieldName(at[1] ?? '', tr), reason: reasonText(at[2] ?? '', tr) };
}

/** `readings.0.values.occupancy` → "Reading 1 · People inside (occupancy)". */
export function fieldName(path: string, tr: Translate): string {
  if (path === '(root)') return tr.t('ingestField.root');
  const parts = path.split('.');
  const words: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    const next = parts[i + 1];
    if ((p === 'readings' || p === 'events') && next !== undefined && /^\d+$/.test(next)) {
      words.push(tr.t(`ingestField.${p}`, { n: Number(next) + 1 }));
      i++;
    } else if (p === 'values' && i < parts.length - 1) {
      // The metric that follows names the field well enough.
    } else if (parts[i - 1] === 'values' && tr.te(`metric.${p}`)) {
      words.push(`${tr.t(`metric.${p}`)} (${p})`);
    } else if (tr.te(`ingestField.${p}`)) {
      words.push(`${tr.t(`ingestField.${p}`)} (${p})`);
    } else {
      words.push(p);
    }
  }
  return words.join(' · ');
}

/** zod 4's English issue texts, as validate.ts records them. */
const reasons: Array<[RegExp, (m: RegExpExecArray, tr: Translate) => string]> = [
  [/^Invalid input: expected \w+, received undefined$/, (_m, tr) => tr.t('ingestReason.missing')],
  [/^Invalid input: expected int, received number$/, (_m, tr) => tr.t('ingestReason.int')],
  [/^Invalid input: expected (\w+), received (\w+)$/, (m, tr) => tr.t('ingestReason.type', typeWords(m, tr))],
  [
    /^Too small: expected array to have >=?(\S+) items?$/,
    (m, tr) => tr.t('ingestReason.minItems', { n: m[1] }),
  ],
  [
    /^Too big: expected array to have <=?(\S+) items?$/,
    (m, tr) => tr.t('ingestReason.maxItems', { n: m[1] }),
  ],
  [/^Too small: expected \w+ to (?:be|have) (>=?)(\S+)/, (m, tr) => tr.t('ingestReason.min', bound(m))],
  [/^Too big: expected \w+ to (?:be|have) (<=?)(\S+)/, (m, tr) => tr.t('ingestReason.max', bound(m))],
  [/^Unrecognized keys?: (.+)$/, (m, tr) => tr.t('ingestReason.unknownKey', { keys: m[1] })],
  [/^Invalid option: expected one of (.+)$/, (m, tr) => tr.t('ingestReason.option', { options: m[1] })],
];

function reasonText(text: string, tr: Translate): string {
  for (const [re, say] of reasons) {
    const m = re.exec(text);
    if (m) return say(m, tr);
  }
  return tr.t('ingestReason.other', { text });
}

const bound = (m: RegExpExecArray) => ({ op: m[1], n: m[2] });
const typeWords = (m: RegExpExecArray, tr: Translate) => ({
  expected: typeName(m[1] ?? '', tr),
  received: typeName(m[2] ?? '', tr),
});
const typeName = (type: string, tr: Translate) =>
  tr.te(`ingestType.${type}`) ? tr.t(`ingestType.${type}`) : type;
