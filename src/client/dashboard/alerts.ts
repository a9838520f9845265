import { api } from './api.js';
import { el } from './dom.js';

interface AlertRow {
  id: string;
  state: 'start' | 'end';
  detector: string;
  time: string;
  text: string;
  notified: string;
  note?: { text: string; at: string };
}

/** An operator's note on one alert: shown as text, edited in a one-line form (empty: removed). */
function noteForm(alert: AlertRow): HTMLElement {
  const shown = el('span', { class: 'note' }, alert.note ? ` — note: ${alert.note.text}` : '');
  const input = el('input', {
    type: 'text',
    maxlength: '500',
    'aria-label': `Note on the alert of ${alert.time.slice(0, 16).replace('T', ' ')} UTC`,
    value: alert.note?.text ?? '',
  });
  const status = el('span', { class: 'muted', role: 'status' });
  const form = el(
    'form',
    { class: 'note-form' },
    input,
    el('button', { type: 'submit' }, 'Save note'),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        const saved = await api<AlertRow>(`/api/v1/alerts/${encodeURIComponent(alert.id)}/note`, {
          text: input.value,
        });
        shown.textContent = saved.note ? ` — note: ${saved.note.text}` : '';
        status.textContent = ' Saved.';
      } catch (error) {
        status.textContent = ` ${error instanceof Error ? error.message : String(error)}`;
      }
    })();
  });
  return el('span', {}, shown, form);
}

/**
 * The alerts' timeline (newest first): when, what started or ended, whether it was sent, and the
 * operators' notes on them (Radar's annotations).
 */
export async function alertsTimeline(): Promise<HTMLElement> {
  try {
    const { alerts } = await api<{ alerts: AlertRow[] }>('/api/v1/alerts?limit=50');
    if (alerts.length === 0)
      return el(
        'section',
        { class: 'alerts' },
        el('h2', {}, 'Alerts'),
        el('p', { class: 'muted' }, 'No alert yet.'),
      );
    return el(
      'section',
      { class: 'alerts' },
      el('h2', {}, 'Alerts'),
      el(
        'ol',
        { class: 'timeline' },
        ...alerts.map((a) =>
          el(
            'li',
            { class: `alert-${a.state}`, 'data-alert': a.id },
            el('time', { datetime: a.time }, a.time.slice(0, 16).replace('T', ' ') + ' UTC'),
            ` ${a.state === 'start' ? '▲' : '▼'} ${a.detector}: ${a.text}`,
            a.notified === 'sent' ? '' : el('span', { class: 'muted' }, ` (${a.notified.replace('_', ' ')})`),
            noteForm(a),
          ),
        ),
      ),
    );
  } catch (error) {
    return el(
      'section',
      {},
      el('h2', {}, 'Alerts'),
      el('p', { class: 'muted' }, `Not available: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
}
