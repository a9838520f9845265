/** DOM helpers of the dashboard: every value is written as text (textContent), never as HTML. */

/** Creates an element with attributes and children; strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children)
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** A number with thousands separators, or a dash when there is none. */
export const number = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : v.toLocaleString('en-US');

/**
 * A summary card: label, value and the change against `against` (default "the previous week";
 * `null` when that has no value, absent when nothing is compared).
 */
export function card(
  label: string,
  value: string,
  change?: number | null,
  against = 'the previous week',
): HTMLElement {
  const delta =
    change === undefined || change === null
      ? el('span', { class: 'muted' }, change === null ? `nothing to compare in ${against}` : '')
      : el('span', { class: change < 0 ? 'down' : 'up' }, `${Math.abs(change)}% vs ${against}`);
  return el(
    'div',
    { class: 'card' },
    el('div', { class: 'label' }, label),
    el('div', { class: 'value', 'data-metric': label }, value),
    delta,
  );
}

/**
 * A section with a ranked table (key, count) whose rows each carry a bar of their count against
 * the largest (a `meter`, named for screen readers), so the table reads as a bar chart too.
 */
export function table(title: string, column: string, rows: { key: string; value: number }[]): HTMLElement {
  const body = el('tbody');
  const largest = Math.max(1, ...rows.map((row) => row.value));
  for (const row of rows)
    body.append(
      el(
        'tr',
        {},
        el('td', {}, row.key),
        el('td', { class: 'n' }, number(row.value)),
        el(
          'td',
          { class: 'share' },
          el('meter', {
            min: '0',
            max: String(largest),
            value: String(row.value),
            'aria-label': `${row.key}: ${number(row.value)}`,
          }),
        ),
      ),
    );
  return el(
    'section',
    {},
    el('h2', {}, title),
    rows.length
      ? el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, column),
              el('th', { scope: 'col', class: 'n' }, 'Count'),
              el('th', { scope: 'col' }, 'Share'),
            ),
          ),
          body,
        )
      : el('p', { class: 'muted' }, 'Nothing in this range.'),
  );
}

/** A table with a header row and text cells. */
export function grid(headers: string[], rows: (string | number | null)[][]): HTMLTableElement {
  const body = el('tbody');
  for (const row of rows)
    body.append(el('tr', {}, ...row.map((v) => el('td', {}, v === null ? '—' : String(v)))));
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    body,
  );
}

/** A list of findings (each a sentence from the API), or a plain "none" line. */
export function findings(title: string, items: { text: string }[], none: string): HTMLElement {
  const list = el('ol', { class: 'findings' });
  for (const item of items) list.append(el('li', {}, item.text));
  return el('section', {}, el('h2', {}, title), items.length ? list : el('p', { class: 'muted' }, none));
}

/** An error line announced to screen readers. */
export function alertLine(message: string): HTMLElement {
  return el('p', { class: 'error', role: 'alert' }, message);
}
