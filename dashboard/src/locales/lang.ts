/**
 * The language switch's words and the marker for a name shown in the other language, shared by
 * the staff app and the booking page. Language names are in their own language, whatever the
 * current one.
 */
export const langZh = {
  label: '语言',
  zh: '中文',
  en: 'English',
  // 只有英文名称时，在名称后标注。
  fallback: '{text}（英文）',
};

export const langEn: typeof langZh = {
  label: 'Language',
  zh: '中文',
  en: 'English',
  // Shown after a name typed only in Chinese.
  fallback: '{text} [zh]',
};
