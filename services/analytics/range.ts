import { type AnalyticsScope, type CompareWith, HubError, type ResolvedRange } from '../../contract/index.js';
import { localDate, shiftDate, startOfDate } from '../telemetry/rollup-calendar.js';

/** The longest range one query may cover: two years of days, or a little over a year of hours. */
export const MAX_RANGE_DAYS = 732;

const daysBetween = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);

/** A preset or custom range as local dates and instants in the hub's zone. */
export function resolveRange(scope: AnalyticsScope, now: number, timeZone: string): ResolvedRange {
  const today = localDate(now, timeZone);
  const month = `${today.slice(0, 7)}-01`;
  let from: string;
  let to = today;
  switch (scope.range) {
    case 'last7':
      from = shiftDate(today, { days: -6 });
      break;
    case 'last30':
      from = shiftDate(today, { days: -29 });
      break;
    case 'last90':
      from = shiftDate(today, { days: -89 });
      break;
    case 'thisMonth':
      from = month;
      break;
    case 'lastMonth':
      from = shiftDate(month, { months: -1 });
      to = shiftDate(month, { days: -1 });
      break;
    case 'custom': {
      const missing = (['from', 'to'] as const).filter((k) => !scope[k]);
      if (missing.length > 0) {
        throw new HubError(
          'VALIDATION',
          'a custom range needs from and to',
          missing.map((k) => ({ path: `querystring.${k}`, message: 'required with range=custom' })),
        );
      }
      from = scope.from!;
      to = scope.to!;
      break;
    }
  }
  if (to < from) {
    throw new HubError('VALIDATION', '`to` is before `from`', [
      { path: 'querystring.to', message: 'not before from' },
    ]);
  }
  if (daysBetween(from, to) + 1 > MAX_RANGE_DAYS) {
    throw new HubError('RANGE_TOO_LARGE', `at most ${MAX_RANGE_DAYS} days`, [
      { path: 'querystring.from', message: `at most ${MAX_RANGE_DAYS} days before to` },
    ]);
  }
  return dated(scope.range, from, to, timeZone);
}

/** The range a trend is compared with: as many days just before, or the same dates a year earlier. */
export function compareRange(r: ResolvedRange, kind: CompareWith): ResolvedRange | null {
  if (kind === 'none') return null;
  if (kind === 'lastYear') {
    return dated('custom', shiftDate(r.from, { years: -1 }), shiftDate(r.to, { years: -1 }), r.timeZone);
  }
  const days = daysBetween(r.from, r.to) + 1;
  return dated('custom', shiftDate(r.from, { days: -days }), shiftDate(r.from, { days: -1 }), r.timeZone);
}

function dated(preset: ResolvedRange['preset'], from: string, to: string, timeZone: string): ResolvedRange {
  return {
    preset,
    from,
    to,
    start: startOfDate(from, timeZone),
    end: startOfDate(shiftDate(to, { days: 1 }), timeZone),
    timeZone,
  };
}
