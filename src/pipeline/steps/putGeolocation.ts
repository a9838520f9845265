import { set, type Step } from '../step.js';

/**
 * Geolocates the visitor IP (country, region, ASN) before the IP is dropped. Values the log
 * gives itself (CDN exports) win, each on its own.
 */
export const putGeolocation: Step = {
  name: 'putGeolocation',
  reads: ['ip', 'country', 'region', 'asn'],
  run({ raw }, ctx) {
    const geo = ctx.geo(raw.ip);
    return set({
      country: raw.country ?? geo.country,
      region: raw.region ?? geo.region,
      asn: raw.asn ?? geo.asn,
    });
  },
};
