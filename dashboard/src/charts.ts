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
 * One 24-hour chart. The x axis is hour labels already formatted in the hub's time zone, so the
 * chart never falls back to the browser's zone; a missing hour is a gap, not a zero.
 */
export function hourlyOption(
  series: HourlySeries[],
  locale: string,
  unit: string,
  /** Counts start at zero and step by whole numbers; measurements (°C, %) fit their own range. */
  counts: boolean,
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
    yAxis: {
      type: 'value',
      scale: !counts,
      minInterval: counts ? 1 : undefined,
      axisLabel: { fontSize: 11 },
      splitLine: { lineStyle: { color: '#eceeed' } },
    },
    series: series.map((s) =>
      s.type === 'bar'
        ? {
            type: 'bar',
            name: s.name,
            data: s.points.map((p) => p.value ?? 0),
            itemStyle: { color: s.color },
          }
        : {
            type: 'line',
            name: s.name,
            data: s.points.map((p) => round1(p.value)),
            connectNulls: false,
            showSymbol: false,
            lineStyle: { color: s.color, width: 2 },
            itemStyle: { color: s.color },
          },
    ),
  };
}
