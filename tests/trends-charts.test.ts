import { describe, expect, it } from 'vitest';
import { axisRanges, hourlyOption, isolatedDots, yAxisFor } from '../dashboard/src/charts.js';
import { trendOption } from '../dashboard/src/trends/charts.js';
import { kpiAxis } from '../dashboard/src/trends/format.js';

const HOUR = 3_600_000;
const points = (values: (number | null)[]) =>
  values.map((value, i) => ({ t: i * HOUR, value, count: value === null ? 0 : 1 }));
/** What ECharts would make of the axis bounds for data spanning [min, max]. */
const bounds = (axis: ReturnType<typeof yAxisFor>, data: { min: number; max: number }) => ({
  min: axis.min,
  max: typeof axis.max === 'function' ? axis.max(data) : axis.max,
  scale: axis.scale,
});

describe('dashboard charts (issue 12)', () => {
  it('draws a point that has no neighbour, and only such points', () => {
    const size = isolatedDots([null, null, 87.5, null, 3, 4, null]);
    const sizes = [0, 1, 2, 3, 4, 5, 6].map((i) => size(null, { dataIndex: i }));
    expect(sizes).toEqual([0, 0, 6, 0, 0, 0, 0]);
    // A fresh hub: one hourly reading in 24 buckets.
    const option = hourlyOption(
      [{ name: 'water', points: points([...Array(23).fill(null), 91]), type: 'line', color: '#000' }],
      'zh-CN',
      '%',
      axisRanges.percent,
    );
    const series = (option.series as { symbolSize: (v: unknown, p: { dataIndex: number }) => number }[])[0]!;
    expect(series.symbolSize(91, { dataIndex: 23 })).toBeGreaterThan(0);
  });

  it('keeps a water level on 0–100 % and occupancy on 0 to the seats, growing only with the data', () => {
    const water = yAxisFor(axisRanges.percent);
    expect(bounds(water, { min: 86, max: 92 })).toEqual({ min: 0, max: 100, scale: false });
    const occ = yAxisFor(axisRanges.occupancy(8));
    expect(bounds(occ, { min: 0, max: 3 })).toMatchObject({ min: 0, max: 8 });
    // Riders standing at the lunch peak: the axis makes room rather than cut the line off.
    expect(bounds(occ, { min: 0, max: 11 })).toMatchObject({ min: 0, max: 11 });
    expect(occ.minInterval).toBe(1);
    // Temperature has no physical bounds worth drawing: it fits the data.
    expect(bounds(yAxisFor(axisRanges.measurement), { min: 18, max: 24 })).toEqual({
      min: undefined,
      max: undefined,
      scale: true,
    });
    expect(bounds(yAxisFor(kpiAxis('uptimePct')), { min: 97, max: 99 })).toMatchObject({ min: 0, max: 100 });
    expect(bounds(yAxisFor(kpiAxis('fillRate')), { min: 0.2, max: 0.6 })).toMatchObject({ min: 0, max: 1 });
  });

  it('overlays the compared period bucket by bucket, behind the current one', () => {
    const p = (label: string, value: number | null) => ({ t: 0, label, value });
    const option = trendOption(
      { name: 'now', points: [p('2026-11-01', 3), p('2026-11-02', 5)] },
      { name: 'before', points: [p('2026-10-30', 2), p('2026-10-31', null)] },
      kpiAxis('occupancyHours'),
    );
    const series = option.series as { name: string; data: (number | null)[] }[];
    expect(series.map((s) => [s.name, s.data])).toEqual([
      ['before', [2, null]],
      ['now', [3, 5]],
    ]);
    expect((option.xAxis as { data: string[] }).data).toEqual(['2026-11-01', '2026-11-02']);
  });
});
