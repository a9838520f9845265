import type { Row } from './api.js';

declare const uPlot: {
  new (options: unknown, data: unknown, target: HTMLElement): { destroy(): void };
  tzDate(date: Date, tzName: string): Date;
};

let charts: { destroy(): void }[] = [];

/** A mark on a chart's time axis: an alert's start or end (Radar's annotations). */
export interface Annotation {
  /** Unix seconds. */
  ts: number;
  label: string;
}

interface DrawingChart {
  ctx: CanvasRenderingContext2D;
  bbox: { left: number; top: number; width: number; height: number };
  valToPos(value: number, scale: string, canvasPixels: boolean): number;
}

/** Draws each annotation as a dashed vertical line with its label at the top. */
function drawAnnotations(annotations: Annotation[]) {
  return (u: DrawingChart) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = '#b00020';
    ctx.fillStyle = '#b00020';
    ctx.setLineDash([4, 3]);
    ctx.font = `${Math.round(11 * devicePixelRatio)}px sans-serif`;
    for (const a of annotations) {
      const x = u.valToPos(a.ts, 'x', true);
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(a.label, x + 3, bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  };
}

/** Removes the charts of the previous view. */
export function destroyCharts(): void {
  for (const chart of charts) chart.destroy();
  charts = [];
}

/**
 * Draws a series against its baseline with uPlot: the current values as a solid line, the
 * baseline dashed (named by `baseline`, default "Previous week"; `false`: none), so the two read
 * apart without colour. Times are the rows' instants, shown in `tz` when given.
 */
export function lineChart(
  box: HTMLElement,
  rows: Row[],
  label: string,
  options: { baseline?: boolean | string; unit?: string; tz?: string; annotations?: Annotation[] } = {},
): void {
  const series: unknown[] = [{}, { label, stroke: '#1f4e9c', width: 2 }];
  const data: (number | null)[][] = [
    rows.map((r) => Date.parse(r.time) / 1000),
    rows.map((r) => (typeof r.value === 'number' ? r.value : null)),
  ];
  if (options.baseline !== false) {
    const name = typeof options.baseline === 'string' ? options.baseline : 'Previous week';
    series.push({ label: name, stroke: '#767676', width: 2, dash: [6, 4] });
    data.push(rows.map((r) => (typeof r.baseline === 'number' ? r.baseline : null)));
  }
  const unit = options.unit ?? '';
  charts.push(
    new uPlot(
      {
        width: Math.min(1060, box.parentElement?.clientWidth || 1000),
        // Axis and legend times in the query's zone (the one the page names), not the browser's.
        ...(options.tz ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), options.tz!) } : {}),
        height: 240,
        ...(options.annotations?.length ? { hooks: { draw: [drawAnnotations(options.annotations)] } } : {}),
        series,
        axes: [{}, { values: (_u: unknown, ticks: number[]) => ticks.map((t) => `${t}${unit}`) }],
      },
      data,
      box,
    ),
  );
}
