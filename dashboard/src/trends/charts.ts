import { HeatmapChart, type HeatmapSeriesOption, LineChart, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  TooltipComponent,
  type TooltipComponentOption,
  VisualMapComponent,
  type VisualMapComponentOption,
} from 'echarts/components';
import { type ComposeOption, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { HeatmapCell, TrendPoint } from '../../../contract/index.js';
import { type AxisRange, isolatedDots, yAxisFor } from '../charts.js';

use([
  LineChart,
  HeatmapChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type TrendsChartOption = ComposeOption<
  | LineSeriesOption
  | HeatmapSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | VisualMapComponentOption
>;

const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

/**
 * The trend of one figure with the compared period drawn faintly behind it, bucket by bucket
 * (the API aligns them by position). Labels are the API's own local dates: no browser time zone.
 */
export function trendOption(
  current: { name: string; points: TrendPoint[] },
  compared: { name: string; points: TrendPoint[] } | null,
  range: AxisRange,
): TrendsChartOption {
  const now = current.points.map((p) => round(p.value));
  const before = compared ? current.points.map((_, i) => round(compared.points[i]?.value ?? null)) : null;
  return {
    animation: false,
    grid: { left: 8, right: 12, top: 28, bottom: 4, containLabel: true },
    legend: { top: 0, left: 0, itemWidth: 14, textStyle: { fontSize: 12 } },
    tooltip: { trigger: 'axis' },
    xAxis: {
      type: 'category',
      data: current.points.map((p) => p.label),
      axisLabel: { fontSize: 11, hideOverlap: true },
    },
    yAxis: yAxisFor(range),
    series: [
      ...(before && compared
        ? [
            {
              type: 'line' as const,
              name: compared.name,
              data: before,
              symbol: 'circle',
              symbolSize: isolatedDots(before),
              lineStyle: { color: '#9aa5a1', width: 1.5, type: 'dashed' as const },
              itemStyle: { color: '#9aa5a1' },
            },
          ]
        : []),
      {
        type: 'line',
        name: current.name,
        data: now,
        symbol: 'circle',
        symbolSize: isolatedDots(now),
        lineStyle: { color: '#1f7a5a', width: 2 },
        itemStyle: { color: '#1f7a5a' },
      },
    ],
  };
}

/** Hour of day across, weekday down (Monday on top, as a wall calendar reads). */
export function heatmapOption(cells: HeatmapCell[], weekdays: readonly string[]): TrendsChartOption {
  const values = cells.map((c) => c.value ?? 0);
  const max = Math.max(0, ...values);
  return {
    animation: false,
    grid: { left: 8, right: 8, top: 8, bottom: 44, containLabel: true },
    tooltip: {
      formatter: (p) => {
        const [h, d, v] = (p as unknown as { value: [number, number, number | null] }).value;
        return `${weekdays[d]} ${String(h).padStart(2, '0')}:00 — ${v === null ? '—' : round(v)}`;
      },
    },
    xAxis: {
      type: 'category',
      data: Array.from({ length: 24 }, (_, h) => String(h)),
      splitArea: { show: true },
      axisLabel: { fontSize: 10, interval: 2 },
    },
    yAxis: { type: 'category', data: [...weekdays], inverse: true, axisLabel: { fontSize: 11 } },
    visualMap: {
      min: 0,
      max: max > 0 ? max : 1,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      inRange: { color: ['#f3f7f5', '#9fd4bd', '#1f7a5a'] },
      textStyle: { fontSize: 11 },
    },
    series: [
      {
        type: 'heatmap',
        data: cells.map((c) => [c.hour, c.weekday - 1, round(c.value)]),
        emphasis: { itemStyle: { borderColor: '#333', borderWidth: 1 } },
      },
    ],
  };
}
