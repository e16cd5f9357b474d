import type { KpiKey } from '../../../contract/index.js';
import { type AxisRange, axisRanges } from '../charts.js';

/** How each figure reads: whole counts, hours with a decimal, rates as percentages. */
const decimals: Partial<Record<KpiKey, number>> = {
  occupancyHours: 1,
  waterDispensedPct: 0,
  energyKwh: 1,
  uptimePct: 1,
  openHours: 1,
  usableHours: 1,
};

export function formatKpi(kpi: KpiKey, v: number | null | undefined, locale: string): string {
  if (v === null || v === undefined) return '—';
  if (kpi === 'fillRate')
    return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(v * 100)} %`;
  const text = new Intl.NumberFormat(locale, { maximumFractionDigits: decimals[kpi] ?? 0 }).format(v);
  return kpi === 'uptimePct' || kpi === 'waterDispensedPct' ? `${text} %` : text;
}

/** The y axis of a figure's trend: rates within their bounds, everything else from zero. */
export function kpiAxis(kpi: KpiKey): AxisRange {
  if (kpi === 'uptimePct') return axisRanges.percent;
  if (kpi === 'fillRate') return { min: 0, max: 1 };
  return { min: 0 };
}
