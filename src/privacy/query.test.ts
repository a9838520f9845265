import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedData } from '../../test/shared-data.js';
import { loadClearUrlsRules } from './clearurls.js';
import { cleanUrl, storedQuery } from './query.js';
import { BUILTIN_TRACKERS } from './trackers.js';

const page = 'https://example.com/a?q=hello&utm_source=x&gclid=abc&id=7#x';

describe('query switch', () => {
  it('strip removes the whole query string and fragment', () => {
    expect(cleanUrl('https://example.com/a?q=hello#x', 'strip', BUILTIN_TRACKERS)).toBe(
      'https://example.com/a',
    );
  });
  it('known-trackers removes tracker parameters and keeps the rest', () => {
    expect(cleanUrl(page, 'known-trackers', BUILTIN_TRACKERS)).toBe('https://example.com/a?q=hello&id=7');
  });
  it('allow keeps only the named parameters', () => {
    expect(cleanUrl(page, { allow: ['id'] }, BUILTIN_TRACKERS)).toBe('https://example.com/a?id=7');
  });
  it('keep keeps the query but still drops the fragment', () => {
    expect(cleanUrl(page, 'keep', BUILTIN_TRACKERS)).toBe(
      'https://example.com/a?q=hello&utm_source=x&gclid=abc&id=7',
    );
  });
  it('refuses non-http URLs', () => {
    expect(cleanUrl('javascript:alert(1)', 'keep', BUILTIN_TRACKERS)).toBeNull();
  });
  it('stores only allow-listed parameters, whatever the rule', () => {
    const url = new URL(page);
    expect(storedQuery(url, 'keep')).toBe('');
    expect(storedQuery(url, 'known-trackers')).toBe('');
    expect(storedQuery(url, { allow: ['q', 'missing'] })).toBe('?q=hello');
  });
  it.each([
    'utm_campaign',
    'UTM_Medium',
    'gclid',
    'gbraid',
    'wbraid',
    'fbclid',
    'msclkid',
    'mc_eid',
    '_ga',
    '_gl',
    'mtm_kwd',
    'pk_campaign',
    'xtor',
    'igshid',
  ])('knows %s as a tracker', (name) => expect(BUILTIN_TRACKERS.isTracker(name)).toBe(true));
  it.each(['q', 'id', 'page', 'lang', 'search', 'utmost'])('does not take %s for a tracker', (name) => {
    expect(BUILTIN_TRACKERS.isTracker(name)).toBe(false);
  });
});

/**
 * Example parameter names for a ClearURLs rule: expands the small regex dialect the global rules
 * use (literals, (?:a|b) groups, [a-z_] classes, ?, *, + and {n,m}) into a bounded set of strings.
 */
function examples(pattern: string): string[] {
  let i = 0;
  function parseSeq(): string[][] {
    const items: string[][] = [];
    while (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') {
      let options: string[];
      const c = pattern[i]!;
      if (c === '(') {
        i += pattern.startsWith('(?:', i) ? 3 : 1;
        const alternatives: string[] = [];
        for (;;) {
          alternatives.push(...combine(parseSeq()));
          if (pattern[i] === '|') i++;
          else break;
        }
        i++; // ')'
        options = alternatives;
      } else if (c === '[') {
        const end = pattern.indexOf(']', i);
        const body = pattern.slice(i + 1, end);
        i = end + 1;
        const chars = new Set<string>();
        for (let k = 0; k < body.length; k++) {
          if (body[k + 1] === '-' && k + 2 < body.length) {
            chars.add(body[k]!).add(body[k + 2]!);
            k += 2;
          } else chars.add(body[k]!);
        }
        options = [...chars];
      } else if (c === '\\') {
        options = [pattern[i + 1]!];
        i += 2;
      } else {
        options = [c];
        i++;
      }
      const q = pattern[i];
      if (q === '?') {
        i++;
        items.push(['', ...options]);
      } else if (q === '*' || q === '+') {
        i++;
        const twice = options.flatMap((a) => options.slice(0, 2).map((b) => a + b));
        items.push([...(q === '*' ? [''] : []), ...options, ...twice.slice(0, 4)]);
      } else items.push(options);
    }
    return items;
  }
  function combine(items: string[][]): string[] {
    return items.reduce<string[]>(
      (acc, options) => acc.flatMap((a) => options.map((o) => a + o)).slice(0, 200),
      [''],
    );
  }
  const out: string[] = [];
  for (;;) {
    out.push(...combine(parseSeq()));
    if (pattern[i] === '|') i++;
    else break;
  }
  return out;
}

describe.skipIf(!HAS_SHARED_DATA)('ClearURLs rules (needs ../shared/data; skipped when absent)', () => {
  const file = sharedData('clearurls', 'data.min.json');
  const data = HAS_SHARED_DATA
    ? (JSON.parse(readFileSync(file, 'utf8')) as { providers: Record<string, { rules: string[] }> })
    : { providers: { globalRules: { rules: [] } } };
  const globalRules = data.providers.globalRules?.rules ?? [];

  it('has global rules to compare with', () => {
    expect(globalRules.length).toBeGreaterThan(40);
  });

  it('the built-in list catches every parameter the ClearURLs global rules catch', () => {
    const missed: string[] = [];
    let checked = 0;
    for (const rule of globalRules) {
      const full = new RegExp(`^(?:${rule})$`, 'i');
      for (const name of examples(rule)) {
        if (name === '' || !full.test(name)) continue;
        checked++;
        if (!BUILTIN_TRACKERS.isTracker(name)) missed.push(`${name} (rule ${rule})`);
      }
    }
    expect(checked).toBeGreaterThan(200);
    expect(missed).toEqual([]);
  });

  it('loads the rules file and applies provider rules only to their URLs', () => {
    const rules = loadClearUrlsRules(file);
    expect(rules.isTracker('utm_source', 'https://example.com/')).toBe(true);
    expect(rules.isTracker('pd_rd_w', 'https://www.amazon.fr/dp/B0')).toBe(true);
    expect(rules.isTracker('pd_rd_w', 'https://example.com/')).toBe(false);
    expect(cleanUrl('https://www.amazon.fr/dp/B0?pd_rd_w=1&keep=2', 'known-trackers', rules)).toBe(
      'https://www.amazon.fr/dp/B0?keep=2',
    );
  });
});

describe('ClearURLs loader errors', () => {
  it('says what is wrong with a file that is not a rules file', () => {
    expect(() => loadClearUrlsRules('/nonexistent/rules.json')).toThrow(/cannot read ClearURLs rules/);
  });
});
