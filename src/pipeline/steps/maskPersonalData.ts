import { scanText } from '../../privacy/dlp/scan.js';
import { scanUrlText } from '../../privacy/dlp/url-parts.js';
import { sitePolicy } from '../../privacy/policy.js';
import { CAMPAIGN_COLUMNS, type EventRow } from '../../store/row.js';
import { drop, NOTHING, set, type Step } from '../step.js';

/**
 * Data-loss prevention on what is stored: event name, title, path, every property key and
 * string value, and the campaign's values. `mask` replaces each finding with `[redacted:<kind>]`,
 * `drop` drops the event (reason dlp_blocked), `report` only counts. Findings are counted per site
 * and kind, never kept.
 */
export const maskPersonalData: Step = {
  name: 'maskPersonalData',
  reads: [],
  readsRow: ['name', 'title', 'path', 'props', ...CAMPAIGN_COLUMNS],
  run({ site, row }) {
    const mode = sitePolicy(site).dlp;
    if (mode === 'off') return NOTHING;
    const findings: string[] = [];
    const scan = (text: string): string => {
      const result = scanText(text, mode);
      for (const kind of result.found) findings.push(kind);
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
    const columns: Partial<EventRow> = {};
    if (row.name !== null) columns.name = scan(row.name);
    if (row.title !== null) columns.title = scan(row.title);
    // Each path segment and kept query value on its own (decoded): a finding masks only its part.
    if (row.path !== null) columns.path = scanUrlText(row.path, scan);
    if (row.props !== null) columns.props = JSON.stringify(walk(JSON.parse(row.props)));
    for (const field of CAMPAIGN_COLUMNS) {
      const value = row[field];
      if (value !== null) columns[field] = scan(value);
    }
    if (mode === 'drop' && findings.length > 0) return drop('dlp_blocked', undefined, findings);
    return set(columns, findings);
  },
};
