import QRCode from 'qrcode';
import type { Site } from '../../contract/index.js';

const escapeXml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/**
 * A printable A5 poster (148 × 210 mm) for a site's door: its name in both languages and a QR code
 * that opens the site's card on the public finder, with its booking link and feedback form
 * (issue 16). Plain SVG with presentation attributes only, so it renders under the hub's CSP
 * (no inline style or script) and prints at any size without blur.
 */
export async function posterSvg(site: Pick<Site, 'id' | 'name'>, url: string): Promise<string> {
  // Level M survives a scuffed or rain-spotted print; the margin is drawn by the poster itself.
  const qr = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 0 });
  const inner = qr
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace('<svg ', '<svg x="24" y="62" width="100" height="100" ');
  // Names up to 80 (zh) / 120 (en) characters: shrink the type so a long name stays on the page.
  const zhSize = Math.min(9, 128 / Math.max(1, site.name.zh.length)).toFixed(2);
  const enSize = Math.min(5.5, 240 / Math.max(1, site.name.en.length)).toFixed(2);
  const font = 'system-ui, &quot;PingFang SC&quot;, &quot;Noto Sans CJK SC&quot;, sans-serif';
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="148mm" height="210mm" viewBox="0 0 148 210">
  <title>${escapeXml(site.name.zh)} · ${escapeXml(site.name.en)}</title>
  <rect width="148" height="210" fill="#ffffff"/>
  <rect x="0" y="0" width="148" height="14" fill="#1f7a5a"/>
  <text x="74" y="9.5" text-anchor="middle" font-family="${font}" font-size="5.2" fill="#ffffff">驿站现在能用吗？扫码查看 · Is it open now? Scan</text>
  <text x="74" y="32" text-anchor="middle" font-family="${font}" font-size="${zhSize}" font-weight="700" fill="#1f2a27">${escapeXml(site.name.zh)}</text>
  <text x="74" y="44" text-anchor="middle" font-family="${font}" font-size="${enSize}" fill="#5f6b67">${escapeXml(site.name.en)}</text>
  ${inner}
  <text x="74" y="176" text-anchor="middle" font-family="${font}" font-size="5" fill="#1f2a27">座位 · 热水 · 雨具 · 预约筛查 · 评价</text>
  <text x="74" y="184" text-anchor="middle" font-family="${font}" font-size="4.2" fill="#5f6b67">Seats · hot water · umbrellas · booking · feedback</text>
  <text x="74" y="198" text-anchor="middle" font-family="${font}" font-size="3.6" fill="#5f6b67">${escapeXml(url)}</text>
</svg>
`;
}
