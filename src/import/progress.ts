import type { ImportProgress, ImportSummary } from './import.js';
import { groupDigits } from '../digits.js';

const units = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → `1.5 KB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** One progress-bar line: `[#####-----]  52%  1.2 MB/2.3 MB  512,000 lines  98,000 lines/s  ETA 00:05`. */
export function progressLine(p: ImportProgress, width = 24): string {
  const fraction = p.allBytesTotal > 0 ? Math.min(1, p.allBytesRead / p.allBytesTotal) : 1;
  const filled = Math.round(fraction * width);
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.lines / seconds : 0;
  const eta = fraction > 0 ? seconds * (1 / fraction - 1) : Number.NaN;
  const file = p.files > 1 ? `  file ${p.fileIndex + 1}/${p.files}` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(p.allBytesRead)}/${formatBytes(p.allBytesTotal)}  ${groupDigits(p.lines)} lines  ${groupDigits(Math.round(rate))} lines/s  ETA ${formatSeconds(eta)}${file}`;
}

/** The end-of-import summary, one fact per line; bad lines by file and number with the reason. */
export function summaryLines(s: ImportSummary, printable: (text: string) => string): string[] {
  const n = groupDigits;
  const lines = [
    `imported ${n(s.imported)} rows from ${n(s.lines)} lines (${s.files} file${s.files === 1 ? '' : 's'}, ${formatBytes(s.bytes)}) in ${(s.elapsedMs / 1000).toFixed(1)} s — ${n(Math.round(s.linesPerSecond))} lines/s, peak memory ${n(s.peakRssMb)} MB`,
  ];
  if (s.duplicates > 0) lines.push(`already stored (same lines imported before): ${n(s.duplicates)}`);
  const dropped = Object.entries(s.dropped);
  if (dropped.length > 0)
    lines.push(
      `dropped by the pipeline: ${dropped.map(([reason, count]) => `${reason} ${n(count ?? 0)}`).join(', ')}`,
    );
  if (s.unknownSite > 0)
    lines.push(
      `skipped, not a configured site: ${n(s.unknownSite)} (${s.unknownHosts.map((h) => `${printable(h.host)} ${n(h.lines)}`).join(', ')}); add the site to the config or use --site`,
    );
  const findings = Object.entries(s.findings);
  if (findings.length > 0)
    lines.push(
      `personal data masked (DLP): ${findings.map(([kind, count]) => `${kind} ${n(count)}`).join(', ')}`,
    );
  lines.push(`bad lines: ${n(s.badLines)}`);
  for (const bad of s.bad) lines.push(`  ${printable(bad.file)}:${bad.line}: ${printable(bad.reason)}`);
  if (s.badLines > s.bad.length) lines.push(`  … and ${n(s.badLines - s.bad.length)} more (--show-bad N)`);
  return lines;
}
