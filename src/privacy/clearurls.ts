import { readFileSync } from 'node:fs';
import { BUILTIN_TRACKERS, compilePatterns, type TrackerList } from './trackers.js';

interface Provider {
  urlPattern: RegExp;
  rules: RegExp | null;
  exceptions: RegExp[];
}

interface RawProvider {
  urlPattern?: unknown;
  rules?: unknown;
  exceptions?: unknown;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * Loads a rules file in the ClearURLs format (`{"providers": {name: {urlPattern, rules,
 * exceptions, …}}}`) and returns the built-in list extended with it: the global rules (provider
 * `globalRules`, url pattern `.*`) apply to every URL, others only to URLs their `urlPattern`
 * matches and no `exceptions` entry matches. Referral-marketing rules and redirections are not used.
 * Throws with a message naming the problem when the file cannot be used.
 */
export function loadClearUrlsRules(path: string): TrackerList {
  let data: { providers?: Record<string, RawProvider> };
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as typeof data;
  } catch (error) {
    throw new Error(
      `cannot read ClearURLs rules ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!data.providers || typeof data.providers !== 'object') {
    throw new Error(`${path} is not a ClearURLs rules file: no "providers" object`);
  }
  const providers: Provider[] = [];
  for (const [name, raw] of Object.entries(data.providers)) {
    const rules = strings(raw.rules);
    try {
      providers.push({
        urlPattern: new RegExp(typeof raw.urlPattern === 'string' ? raw.urlPattern : '^$', 'i'),
        rules: rules.length > 0 ? compilePatterns(rules) : null,
        exceptions: strings(raw.exceptions).map((e) => new RegExp(e, 'i')),
      });
    } catch (error) {
      throw new Error(`${path}: provider ${name} has an invalid pattern: ${(error as Error).message}`);
    }
  }
  return {
    isTracker(name, url = '') {
      if (BUILTIN_TRACKERS.isTracker(name)) return true;
      return providers.some(
        (p) =>
          p.rules !== null &&
          p.urlPattern.test(url) &&
          !p.exceptions.some((e) => e.test(url)) &&
          p.rules.test(name),
      );
    },
  };
}
