import { STRICTNESS } from '../privacy/policy.js';
import type { SwitchInfo } from './view.js';

export type { SwitchInfo } from './view.js';

/** The site privacy switches of docs/privacy.md, least to most strict, each with its one line. */
export const PRIVACY_SWITCHES: readonly SwitchInfo[] = [
  {
    key: 'profile',
    values: ['cnil-proxy', 'cnil-exempt', 'custom', 'off'],
    default: 'cnil-proxy',
    explanation:
      'cnil-proxy: the CNIL analytics-proxy conditions, switches may only be stricter; custom: every switch by hand; off: development only.',
  },
  {
    key: 'query',
    values: ['keep', 'known-trackers', 'allow', 'strip'],
    default: 'strip',
    explanation:
      'URL query parameters: stored paths never keep a query except the names you allow; tools get keep, known trackers removed, allowed names, or none.',
  },
  {
    key: 'ip',
    values: STRICTNESS.ip,
    default: 'hide',
    explanation:
      'Visitor IP for tools: never stored; country is looked up first. trim keeps /24 (IPv4) or /48 (IPv6), hide sends none.',
  },
  {
    key: 'userAgent',
    values: STRICTNESS.userAgent,
    default: 'reduce',
    explanation:
      'User-Agent for tools: never stored (only browser, OS, device type, bot flag); reduce sends the frozen UA-Reduction form, remove sends none.',
  },
  {
    key: 'referrer',
    values: STRICTNESS.referrer,
    default: 'strip-external',
    explanation:
      'Referrer: an external one is kept as host and class only (search, social…); internal ones are dropped; remove keeps nothing.',
  },
  {
    key: 'dlp',
    values: STRICTNESS.dlp,
    default: 'mask',
    explanation:
      'Personal data (e-mail, phone, card, IBAN, IP, NIR, SIRET) in events: report counts it, mask replaces it with [redacted:kind], drop drops the event.',
  },
  {
    key: 'browserRequests',
    values: STRICTNESS.browserRequests,
    default: 'refuse',
    explanation:
      'Browser-side tool requests (client.fetch/execute): refused under the CNIL profiles; allow only with profile custom.',
  },
];
