import type { SiteConfig, ToolConfig } from '../config/schema.js';
import type { EventRow } from '../store/row.js';

/** A site trigger, compiled: does it match this event? */
export type Matcher = (event: EventRow, props: Record<string, unknown> | null) => boolean;

/** A tool's action, as its configuration gives it. */
export type Action = NonNullable<ToolConfig['actions']>[number];

/** One event a tool receives: the type its listeners get, and the action that sent it (if any). */
export interface Firing {
  type: string;
  action: Action | null;
}

/**
 * A `*` pattern as a test of a text: literal parts found in order, in linear time (no regular
 * expression: patterns can come from the settings API).
 */
export function globTest(pattern: string): (text: string) => boolean {
  if (!pattern.includes('*')) return (text) => text === pattern;
  const parts = pattern.split('*');
  const first = parts[0]!;
  const last = parts.at(-1)!;
  const middle = parts.slice(1, -1).filter((part) => part !== '');
  return (text) => {
    if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last))
      return false;
    let at = first.length;
    const end = text.length - last.length;
    for (const part of middle) {
      const found = text.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** A property by dotted path (`order.id`), own keys only. */
export function propertyAt(props: Record<string, unknown> | null, path: string): unknown {
  let value: unknown = props;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key))
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

type Rule =
  | string
  | number
  | boolean
  | { gt?: number | undefined; gte?: number | undefined; lt?: number | undefined; lte?: number | undefined };

function valueTest(rule: Rule): (value: unknown) => boolean {
  if (typeof rule === 'object') {
    const { gt, gte, lt, lte } = rule;
    return (value) => {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      return (
        Number.isFinite(n) &&
        (gt === undefined || n > gt) &&
        (gte === undefined || n >= gte) &&
        (lt === undefined || n < lt) &&
        (lte === undefined || n <= lte)
      );
    };
  }
  if (typeof rule !== 'string') return (value) => value === rule || String(value) === String(rule);
  const test = globTest(rule);
  return (value) =>
    (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') &&
    test(String(value));
}

type Match = SiteConfig['triggers'][number]['match'];

/** One trigger's match rules as one test (every rule given must hold). */
function compileMatch(match: Match): Matcher {
  const tests: Matcher[] = [];
  if (match.type) {
    const type = match.type === 'track' ? 'event' : match.type;
    tests.push((event) => event.type === type);
  }
  if (match.name !== undefined) {
    const test = globTest(match.name);
    tests.push((event) => event.name !== null && test(event.name));
  }
  if (match.path !== undefined) {
    const test = globTest(match.path);
    tests.push((event) => event.path !== null && test(event.path));
  }
  for (const [key, rule] of Object.entries(match.props ?? {})) {
    const test = valueTest(rule);
    tests.push((_event, props) => test(propertyAt(props, key)));
  }
  return (event, props) => tests.every((test) => test(event, props));
}

/** Compiles a site's triggers, by id: their match rules, less their exclude rules. */
export function compileTriggers(site: SiteConfig): Map<string, Matcher> {
  const out = new Map<string, Matcher>();
  for (const { id, match, exclude } of site.triggers) {
    const matches = compileMatch(match);
    const excluded = exclude ? compileMatch(exclude) : null;
    out.set(id, excluded ? (event, props) => matches(event, props) && !excluded(event, props) : matches);
  }
  return out;
}

/**
 * What a tool receives for one event, as Zaraz decides it: nothing when a blocking trigger
 * matches; without actions, the event itself (its own type); with actions, one event per action
 * whose trigger matches, of the action's type (default: the event's own). `memo` keeps each
 * trigger's answer for the event, shared by the site's tools.
 */
export function firingsOf(
  tool: ToolConfig,
  triggers: ReadonlyMap<string, Matcher>,
  row: EventRow,
  props: Record<string, unknown> | null,
  type: string,
  memo: Map<string, boolean>,
): Firing[] {
  const fired = (id: string): boolean => {
    let answer = memo.get(id);
    if (answer === undefined) memo.set(id, (answer = triggers.get(id)?.(row, props) ?? false));
    return answer;
  };
  if (tool.blockingTriggers.some(fired)) return [];
  if (tool.actions === undefined) return [{ type, action: null }];
  return tool.actions
    .filter(
      (action) =>
        (typeof action.trigger === 'string' ? fired(action.trigger) : action.trigger.some(fired)) &&
        !action.blockingTriggers.some(fired),
    )
    .map((action) => ({ type: action.event ?? type, action }));
}

/**
 * The payload an action gives its component: the event's properties (as the tool's privacy view
 * left them, setting names removed), then the mapped fields (read from the privacy view's
 * properties), then the fixed ones — the operator's fields win.
 */
export function actionPayload(
  properties: Record<string, unknown>,
  view: { url: URL; title: string | undefined; payload: Record<string, unknown> },
  row: EventRow,
  action: Action,
): Record<string, unknown> {
  const payload: Record<string, unknown> = { ...properties };
  for (const [field, source] of Object.entries(action.map)) {
    const value =
      source === '$name'
        ? row.name
        : source === '$type'
          ? row.type
          : source === '$path'
            ? row.path
            : source === '$url'
              ? view.url.href
              : source === '$title'
                ? view.title
                : propertyAt(view.payload, source);
    if (value !== undefined && value !== null) payload[field] = value;
  }
  Object.assign(payload, action.fields);
  return payload;
}
