import { api } from './api.js';
import { el, findings } from './dom.js';
import { alertsTimeline } from './alerts.js';
import { proxySection } from './proxy.js';
import { intervalOf, rangeQuery, type Selection } from './selection.js';

interface Finding {
  text: string;
}

const DETECTORS: { name: string; title: string; none: string; extra: Record<string, unknown> }[] = [
  { name: 'anomalies', title: 'Anomalies', none: 'No anomaly.', extra: { metric: 'pageviews' } },
  {
    name: 'attacks',
    title: 'Attacks (per-second bursts)',
    none: 'No attack.',
    extra: { metric: 'requests' },
  },
  { name: 'shifts', title: 'Shifts by country', none: 'No shift.', extra: { breakdown: 'country' } },
  { name: 'outages', title: 'Outages by country', none: 'No outage.', extra: { breakdown: 'country' } },
  {
    name: 'spikes',
    title: 'Spikes',
    none: 'No spike.',
    extra: { metric: 'pageviews', limit: 10, compare: 'previous_week' },
  },
  {
    name: 'dips',
    title: 'Dips',
    none: 'No dip.',
    extra: { metric: 'pageviews', limit: 10, compare: 'previous_week' },
  },
];

/**
 * What the detectors found in the range (then proxy mode's state, when a site has it): anomalies, attacks at one-second resolution, traffic
 * shifts and outages by country, spikes and dips against the previous week — each a sentence.
 * A detector that refuses the range says why in its own section; the others still show.
 */
export async function renderDetections(selection: Selection, target: HTMLElement): Promise<void> {
  const base = { ...rangeQuery(selection), interval: intervalOf(selection) };
  const results = await Promise.all(
    DETECTORS.map(async (d) => {
      try {
        const { findings: found } = await api<{ findings: Finding[] }>(`/api/v1/detect/${d.name}`, {
          ...base,
          ...d.extra,
        });
        return findings(d.title, found, d.none);
      } catch (error) {
        return el(
          'section',
          {},
          el('h2', {}, d.title),
          el(
            'p',
            { class: 'muted' },
            `Not available for this range: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
      }
    }),
  );
  const proxy = await proxySection();
  target.replaceChildren(await alertsTimeline(), ...results, ...(proxy ? [proxy] : []));
}
