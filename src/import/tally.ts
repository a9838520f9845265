import type { DropReason } from '../pipeline/result.js';
import type { ImportSummary } from './import.js';
import type { ChunkResult } from './process.js';

/** Most distinct unknown hosts counted (the summary names the 10 with the most lines). */
const MAX_UNKNOWN_HOSTS = 1000;

/**
 * An import's counts as chunks come back: lines, bad lines (the first `showBad` kept), drops,
 * DLP findings, unknown sites; `summary()` gives them as an ImportSummary.
 */
export class ImportTally {
  private readonly unknown = new Map<string, number>();
  private readonly started = performance.now();
  readonly counts: ImportSummary;

  constructor(
    files: number,
    bytes: number,
    private readonly showBad: number,
  ) {
    this.counts = {
      files,
      bytes,
      lines: 0,
      imported: 0,
      duplicates: 0,
      badLines: 0,
      bad: [],
      dropped: {},
      unknownSite: 0,
      unknownHosts: [],
      findings: {},
      elapsedMs: 0,
      linesPerSecond: 0,
      peakRssMb: 0,
    };
  }

  /** Counts what a chunk of `file` held. */
  add(result: ChunkResult, file: string): void {
    const s = this.counts;
    s.lines += result.lines;
    s.badLines += result.badLines;
    for (const { line, reason } of result.bad)
      if (s.bad.length < this.showBad) s.bad.push({ file, line, reason });
    for (const [reason, count] of Object.entries(result.dropped) as [DropReason, number][])
      s.dropped[reason] = (s.dropped[reason] ?? 0) + count;
    for (const [kind, count] of Object.entries(result.findings))
      s.findings[kind] = (s.findings[kind] ?? 0) + count;
    s.unknownSite += result.unknownSite;
    for (const [host, count] of result.unknownHosts)
      if (this.unknown.has(host) || this.unknown.size < MAX_UNKNOWN_HOSTS)
        this.unknown.set(host, (this.unknown.get(host) ?? 0) + count);
  }

  /** Counts a batch written to the store: `inserted` of its `rows` were new. */
  written(rows: number, inserted: number): void {
    this.counts.imported += inserted;
    this.counts.duplicates += rows - inserted;
  }

  /** The summary so far: unknown hosts ranked, time, speed and the process's peak memory. */
  summary(): ImportSummary {
    const s = this.counts;
    s.unknownHosts = [...this.unknown]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([host, lines]) => ({ host, lines }));
    s.elapsedMs = performance.now() - this.started;
    s.linesPerSecond = s.lines / Math.max(s.elapsedMs / 1000, 1e-9);
    // maxRSS is in kilobytes.
    s.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    return s;
  }
}
