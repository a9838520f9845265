import { api } from './api.js';
import { alertLine, el, grid } from './dom.js';

interface ProxyStatus {
  site: string;
  underAttack: boolean;
  upstreams: { name: string; healthy: boolean }[];
  decisions: { forwarded: number; prefix: number; path: number; under_attack: number };
}

/**
 * Proxy mode's state, for the sites that have it: each upstream healthy or not, the protection's
 * decisions since the gateway started, and the "under attack" switch (docs/proxy.md). Nothing
 * when no site is proxied.
 */
export async function proxySection(): Promise<HTMLElement | null> {
  let sites: ProxyStatus[];
  try {
    ({ sites } = await api<{ sites: ProxyStatus[] }>('/api/v1/proxy'));
  } catch {
    return null;
  }
  if (sites.length === 0) return null;
  const section = el('section', { 'data-proxy': '' }, el('h2', {}, 'Proxy mode'));
  for (const status of sites) {
    const button = el(
      'button',
      {
        type: 'button',
        class: status.underAttack ? 'danger' : 'secondary',
        'data-under-attack': status.site,
      },
      status.underAttack ? `End "under attack" on ${status.site}` : `Switch ${status.site} to "under attack"`,
    );
    const line = el('div', { 'aria-live': 'polite' });
    button.addEventListener('click', () => {
      button.disabled = true;
      api('/api/v1/proxy/under-attack', { site: status.site, on: !status.underAttack }).then(
        () => {
          status.underAttack = !status.underAttack;
          button.textContent = status.underAttack
            ? `End "under attack" on ${status.site}`
            : `Switch ${status.site} to "under attack"`;
          button.className = status.underAttack ? 'danger' : 'secondary';
          line.replaceChildren(
            el(
              'p',
              { role: 'status' },
              status.underAttack
                ? 'Under attack: every network gets the small bucket.'
                : 'Back to the usual limits.',
            ),
          );
          button.disabled = false;
        },
        (error: unknown) => {
          button.disabled = false;
          line.replaceChildren(alertLine(error instanceof Error ? error.message : String(error)));
        },
      );
    });
    const d = status.decisions;
    section.append(
      el('h3', {}, status.site),
      grid(
        ['upstream', 'state'],
        status.upstreams.map((u) => [u.name, u.healthy ? 'healthy' : 'down']),
      ),
      el(
        'p',
        { class: 'help' },
        `Since the gateway started: ${d.forwarded} forwarded; refused ${d.prefix} per network, ${d.path} per path, ${d.under_attack} under attack.`,
      ),
      button,
      line,
    );
  }
  return section;
}
