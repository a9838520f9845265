import { cleanUrl } from '../../privacy/query.js';
import { BUILTIN_TRACKERS } from '../../privacy/trackers.js';
import { set, type Step } from '../step.js';

const MAX_PROPS_JSON = 4096;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Removes query and fragment from anything that looks like an absolute URL (the `strip` rule). */
function stripUrl(value: string): string {
  if (!/^https?:\/\//i.test(value)) return value;
  return cleanUrl(value, 'strip', BUILTIN_TRACKERS) ?? value.replace(/[?#].*$/s, '');
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return stripUrl(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null) return value;
  if (depth > 4) return null;
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (!FORBIDDEN_KEYS.has(key)) out[key] = clean(v, depth + 1);
    }
    return out;
  }
  return null;
}

/** Keeps the event name and a small cleaned copy of its properties (URLs without query strings). */
export const putProps: Step = {
  name: 'putProps',
  reads: ['name', 'props'],
  memo: false,
  run({ raw }) {
    const props = raw.props;
    if (!props || Object.keys(props).length === 0) return set({ name: raw.name });
    const json = JSON.stringify(clean(props, 0));
    return set({
      name: raw.name,
      props: json.length <= MAX_PROPS_JSON ? json : JSON.stringify({ _truncated: true }),
    });
  },
};
