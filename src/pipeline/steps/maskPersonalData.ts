import { scanText } from '../../privacy/dlp/scan.js';
import { scanUrlText } from '../../privacy/dlp/url-parts.js';
import { sitePolicy } from '../../privacy/policy.js';
import { drop, ok, type StepResult } from '../result.js';
import type { PipelineContext, WorkingEvent } from '../event.js';

/**
 * Data-loss prevention on what is stored: event name, title, path and every property key and
 * string value. `mask` replaces each finding with `[redacted:<kind>]`, `drop` drops the event
 * (reason dlp_blocked), `report` only counts. Findings are counted per site and kind, never kept.
 */
export function maskPersonalData(event: WorkingEvent, ctx: PipelineContext): StepResult<WorkingEvent> {
  const mode = sitePolicy(event.site).dlp;
  if (mode === 'off') return ok(event);
  const row = event.row;
  let findings = 0;
  const scan = (text: string): string => {
    const result = scanText(text, mode);
    for (const kind of result.found) ctx.countFinding(row.site, kind);
    findings += result.found.length;
    return result.text;
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return scan(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) out[scan(key)] = walk(v);
      return out;
    }
    return value;
  };
  if (row.name !== null) row.name = scan(row.name);
  if (row.title !== null) row.title = scan(row.title);
  // Each path segment and kept query value on its own (decoded): a finding masks only its part.
  if (row.path !== null) row.path = scanUrlText(row.path, scan);
  if (row.props !== null) row.props = JSON.stringify(walk(JSON.parse(row.props)));
  if (mode === 'drop' && findings > 0) return drop('dlp_blocked');
  return ok(event);
}
