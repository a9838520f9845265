import { classifyReferrer } from '../../enrich/referrer.js';
import { sitePolicy } from '../../privacy/policy.js';
import { domainsOfSite, isInternalHost } from '../../privacy/referrer.js';
import { NOTHING, set, type Step } from '../step.js';

/**
 * Keeps an external referrer's host and class only (never its path or query). A referrer with
 * the same registrable domain as one of the site's hosts is internal and leaves both empty, as
 * do unparsable referrers and `referrer: remove`.
 */
export const putReferrer: Step = {
  name: 'putReferrer',
  reads: ['referrer'],
  skip: ['dns'],
  run({ raw, site }) {
    const referrer = raw.referrer;
    if (!referrer || sitePolicy(site).referrer === 'remove') return NOTHING;
    let host: string;
    try {
      const url = new URL(referrer);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return NOTHING;
      host = url.hostname.toLowerCase();
    } catch {
      return NOTHING;
    }
    if (isInternalHost(host, domainsOfSite(site))) return NOTHING;
    return set({ referrerHost: host, referrerClass: classifyReferrer(host) });
  },
};
