import { escapeHtml } from './escape.js';
import { groupDigits } from '../digits.js';

/** One line of a chart: its points (null = gap) and how it is drawn. */
export interface ChartLine {
  name: string;
  values: (number | null)[];
  /** Dashed lines are told apart without colour. */
  dashed?: boolean;
  color: string;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * An inline SVG line chart (no script, no external resource): y axis from 0 with four grid
 * lines, x labels at up to eight positions, a legend naming each line and its dash style, and
 * a `<title>` for screen readers. Every label is escaped.
 */
export function lineChart(
  title: string,
  labels: string[],
  lines: ChartLine[],
  width = 880,
  height = 260,
): string {
  const left = 56;
  const right = 12;
  const top = 28;
  const bottom = 36;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null))));
  const x = (i: number) => left + (labels.length <= 1 ? plotW / 2 : (i * plotW) / (labels.length - 1));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<title>${escapeHtml(title)}</title>`,
  ];
  for (let g = 0; g <= 4; g++) {
    const value = (max * g) / 4;
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeHtml(groupDigits(value))}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    const anchor = i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle';
    parts.push(
      `<text x="${x(i).toFixed(1)}" y="${height - 12}" text-anchor="${anchor}" font-size="11">${escapeHtml(label)}</text>`,
    );
  });
  lines.forEach((line, index) => {
    let d = '';
    let pen = false;
    line.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"${dash}/>`);
    const lx = left + index * 220;
    parts.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="12" y2="12" stroke="${line.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 34}" y="16" font-size="12">${escapeHtml(line.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
