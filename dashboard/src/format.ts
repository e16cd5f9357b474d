const numberFormats = new Map<string, Intl.NumberFormat>();

export function formatNumber(value: number, locale: string, maxFraction = 1): string {
  const key = `${locale}|${maxFraction}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: maxFraction });
    numberFormats.set(key, f);
  }
  return f.format(value);
}

/** Unit shown after each metric of the device contract; counts have none. */
const units: Record<string, string> = {
  temperature_c: ' °C',
  setpoint_c: ' °C',
  humidity_pct: '%',
  water_level_pct: '%',
  power_w: ' W',
};

/** Metrics shown in this order on a device card; unknown ones follow alphabetically. */
export const metricOrder = [
  'occupancy',
  'open',
  'on',
  'water_level_pct',
  'temperature_c',
  'humidity_pct',
  'setpoint_c',
  'power_w',
  'umbrellas',
  'raincoats',
];

export function sortedMetrics(values: Record<string, number | boolean>): [string, number | boolean][] {
  const rank = (m: string) => {
    const i = metricOrder.indexOf(m);
    return i < 0 ? metricOrder.length : i;
  };
  return Object.entries(values).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * A reading as a station manager reads it: "23.5 °C", "68%", "开着". Booleans are translated by
 * the caller's `t` (door open/closed, equipment on/off).
 */
export function formatMetric(
  metric: string,
  value: number | boolean,
  locale: string,
  t: (key: string) => string,
): string {
  if (typeof value === 'boolean') {
    if (metric === 'open') return t(value ? 'tile.doorOpen' : 'tile.doorClosed');
    return t(value ? 'device.on' : 'device.off');
  }
  return `${formatNumber(value, locale)}${units[metric] ?? ''}`;
}
