import { set, type Step } from '../step.js';

/** Sets the day's visitor hash: keyed hash of (IP, UA, site) under the salt of the row's day. */
export const putVisitorHash: Step = {
  name: 'putVisitorHash',
  reads: ['ip', 'userAgent'],
  readsRow: ['ts'],
  memo: false,
  run({ raw, site, row }, ctx) {
    const hash = ctx.visitorHash(site, raw.ip, raw.userAgent, row.ts);
    return typeof hash === 'string'
      ? set({ visitorHash: hash })
      : hash.then((value) => set({ visitorHash: value }));
  },
};
