import { el } from './dom.js';

/** A configuration object as the file has it. */
export type Raw = Record<string, unknown>;

let uid = 0;
/** True for a plain object (not an array). */
export const isRecord = (value: unknown): value is Raw =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
/** The items of a comma- or space-separated list. */
export const list = (text: string) =>
  text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
/** A scalar from the file as text ('' for anything else: objects are never shown as [object Object]). */
export const text = (value: unknown, fallback = ''): string =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
/** A list from the file as comma-separated text. */
export const asList = (value: unknown) => (Array.isArray(value) ? value.map(String).join(', ') : '');

/** A form row: the control with a page-unique id, its label, and its help line (aria-describedby). */
export function labelled<T extends HTMLElement>(
  label: string,
  control: T,
  help?: string,
): { row: HTMLElement; control: T } {
  const id = `f${++uid}`;
  control.id = id;
  if (help) control.setAttribute('aria-describedby', `${id}-help`);
  const row = el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label),
    control,
    ...(help ? [el('p', { class: 'help', id: `${id}-help` }, help)] : []),
  );
  return { row, control };
}

/** A labelled input. */
export function field(
  label: string,
  value: string,
  attributes: Record<string, string> = {},
  help?: string,
): { row: HTMLElement; input: HTMLInputElement } {
  const { row, control } = labelled(label, el('input', { value, ...attributes }), help);
  return { row, input: control };
}

/** A labelled select; `values` as [value, text]. */
export function choice(
  label: string,
  values: [string, string][],
  value: string,
  help?: string,
): { row: HTMLElement; select: HTMLSelectElement } {
  const select = el('select');
  for (const [v, text] of values) select.append(el('option', { value: v }, text));
  select.value = value;
  const { row } = labelled(label, select, help);
  return { row, select };
}

/** A value the form cannot send as written (e.g. JSON that does not parse), with what to fix. */
export class FormError extends Error {}

/**
 * A labelled text area holding JSON (e.g. a site's triggers, a tool's actions): `read()` gives
 * the parsed value, undefined when empty, or throws a FormError naming the field.
 */
export function jsonField(
  label: string,
  value: unknown,
  attributes: Record<string, string> = {},
  help?: string,
): { row: HTMLElement; read: () => unknown } {
  const area = el('textarea', { rows: '4', spellcheck: 'false', ...attributes });
  area.value = value === undefined ? '' : JSON.stringify(value, null, 2);
  const { row } = labelled(label, area, help);
  return {
    row,
    read: () => {
      if (area.value.trim() === '') return undefined;
      try {
        return JSON.parse(area.value) as unknown;
      } catch (error) {
        throw new FormError(`${label}: not valid JSON (${error instanceof Error ? error.message : ''})`);
      }
    },
  };
}
