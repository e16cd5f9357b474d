import { BarChart, type BarSeriesOption, LineChart, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  TooltipComponent,
  type TooltipComponentOption,
} from 'echarts/components';
import { type ComposeOption, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { RangePoint } from '../../contract/index.js';
import { formatHour } from './time.js';

// Only the parts the site page draws, so the chunk stays small (echarts/core, not 'echarts').
use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export type ChartOption = ComposeOption<
  LineSeriesOption | BarSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption
>;

export interface HourlySeries {
  name: string;
  points: RangePoint[];
  type: 'line' | 'bar';
  color: string;
}

const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

/**
 * The y axis a metric's physical range calls for: a water level runs 0–100 %, occupancy 0 to the
 * seats (more when riders stand at a peak), counts from 0 in whole steps. Without it ECharts fits
 * the data and a water level near 90 % got an axis of 40–140 %.
 */
export interface AxisRange {
  min?: number;
  /** The axis reaches at least this far, further only if the data does. */
  max?: number;
  /** Whole numbers from zero (people, openings). */
  counts?: boolean;
}

/** Physical ranges of the metrics the dashboard draws. */
export const axisRanges = {
  occupancy: (seats?: number) => ({ min: 0, max: seats, counts: true }),
  percent: { min: 0, max: 100 },
  count: { min: 0, counts: true },
  /** Indoor temperature has no hard bounds: fit the data. */
  measurement: {},
} satisfies Record<string, AxisRange | ((seats?: number) => AxisRange)>;

export function yAxisFor(range: AxisRange) {
  const { min, max, counts } = range;
  return {
    type: 'value' as const,
    min,
    max: max === undefined ? undefined : (v: { max: number }) => Math.max(max, v.max),
    // Only an axis with neither bound fits the data; `scale` would lift a bound-less minimum off 0.
    scale: min === undefined && max === undefined && !counts,
    minInterval: counts ? 1 : undefined,
    axisLabel: { fontSize: 11 },
    splitLine: { lineStyle: { color: '#eceeed' } },
  };
}

/**
 * A point between two gaps has no line to draw, and with symbols hidden it vanished (a fresh
 * hub's single hourly reading showed an empty chart): such points get a dot of their own.
 */
export function isolatedDots(values: readonly (number | null)[], size = 6) {
  return (_value: unknown, params: { dataIndex: number }) => {
    const i = params.dataIndex;
    const lone = values[i] !== null && (values[i - 1] ?? null) === null && (values[i + 1] ?? null) === null;
    return lone ? size : 0;
  };
}

/**
 * One 24-hour chart. The x axis is hour labels already formatted in the hub's time zone, so the
 * chart never falls back to the browser's zone; a missing hour is a gap, not a zero.
 */
export function hourlyOption(
  series: HourlySeries[],
  locale: string,
  unit: string,
  range: AxisRange,
): ChartOption {
  const hours = (series[0]?.points ?? []).map((p) => formatHour(p.t, locale));
  return {
    animation: false,
    grid: { left: 8, right: 12, top: series.length > 1 ? 28 : 12, bottom: 4, containLabel: true },
    legend: series.length > 1 ? { top: 0, left: 0, itemWidth: 14, textStyle: { fontSize: 12 } } : undefined,
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v) => (v === null || v === undefined || v === '-' ? '—' : `${v}${unit}`),
    },
    xAxis: {
      type: 'category',
      data: hours,
      boundaryGap: series.some((s) => s.type === 'bar'),
      axisLabel: { fontSize: 11, hideOverlap: true },
      axisTick: { alignWithLabel: true },
    },
    yAxis: yAxisFor(range),
    series: series.map((s) =>
      s.type === 'bar'
        ? {
            type: 'bar',
            name: s.name,
            data: s.points.map((p) => p.value ?? 0),
            itemStyle: { color: s.color },
          }
        : lineSeries(s),
    ),
  };
}

function lineSeries(s: HourlySeries): LineSeriesOption {
  const data = s.points.map((p) => round1(p.value));
  return {
    type: 'line',
    name: s.name,
    data,
    connectNulls: false,
    symbol: 'circle',
    symbolSize: isolatedDots(data),
    lineStyle: { color: s.color, width: 2 },
    itemStyle: { color: s.color },
  };
}
