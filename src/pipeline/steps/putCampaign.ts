import type { EventRow } from '../../store/row.js';
import { NOTHING, set, type Step } from '../step.js';

/** Longest campaign value kept (characters). */
const MAX_VALUE = 100;

/** Query parameters of each campaign field, first found wins (Plausible reads `ref` and `source` too). */
const FIELDS: readonly [keyof EventRow, readonly string[]][] = [
  ['utmSource', ['utm_source', 'ref', 'source']],
  ['utmMedium', ['utm_medium']],
  ['utmCampaign', ['utm_campaign']],
  ['utmTerm', ['utm_term']],
  ['utmContent', ['utm_content']],
];

/** Ad click ids: their presence makes the visit paid; their values are never read. */
const CLICK_IDS = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'twclid',
  'li_fat_id',
  'yclid',
];

/**
 * Reads the page URL's campaign before its query is dropped: `utm_source` (or `ref`,
 * `source`), `utm_medium`, `utm_campaign`, `utm_term` and `utm_content`, each trimmed,
 * lower-cased and cut to 100 characters (DLP scans them next, like every stored text), and a
 * `paid` flag when the URL carries an ad click id (`gclid`, `fbclid`…), whose value is dropped.
 */
export const putCampaign: Step = {
  name: 'putCampaign',
  reads: ['url'],
  skip: ['dns'],
  run({ raw }) {
    const query = raw.url.indexOf('?');
    if (query < 0) return NOTHING;
    let params: URLSearchParams;
    try {
      params = new URL(raw.url).searchParams;
    } catch {
      return NOTHING;
    }
    const columns: Partial<Record<keyof EventRow, string | boolean>> = {};
    for (const [column, names] of FIELDS) {
      for (const name of names) {
        const value = params.get(name)?.trim().toLowerCase();
        if (value) {
          columns[column] = value.slice(0, MAX_VALUE);
          break;
        }
      }
    }
    if (CLICK_IDS.some((name) => params.has(name))) columns.paid = true;
    return Object.keys(columns).length === 0 ? NOTHING : set(columns as Partial<EventRow>);
  },
};
