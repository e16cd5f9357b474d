/**
 * Words a station's staff should not have to read (issue 16: "abusive text refused"). A short,
 * deliberately conservative list of insults and threats in Chinese and English, matched on the
 * comment with spaces and punctuation removed and letters lower-cased, so "f u c k" and "傻 逼"
 * match too. A complaint in plain words ("脏", "dirty", "rude") is what feedback is for and is
 * never refused. The list is data: extend it here, with a test.
 */
const WORDS = [
  // Chinese insults and threats
  '傻逼',
  '煞笔',
  '沙比',
  '他妈的',
  '操你',
  '草你妈',
  '去死',
  '杀了你',
  '王八蛋',
  '狗日的',
  '贱人',
  '婊子',
  // English
  'fuck',
  'shit',
  'bitch',
  'cunt',
  'asshole',
  'bastard',
  'killyou',
  'retard',
];

const normalize = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}_]+/gu, '');

/** The first listed word the text contains, or null. */
export function abusiveWord(text: string): string | null {
  const flat = normalize(text);
  return WORDS.find((w) => flat.includes(w)) ?? null;
}
