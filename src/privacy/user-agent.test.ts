import { readFileSync } from 'node:fs';
import { UAParser } from 'ua-parser-js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedData } from '../../test/shared-data.js';
import { applyUserAgentRule, reduceUserAgent, REDUCED_UA_TEMPLATES } from './user-agent.js';

describe('userAgent reduce (docs/privacy.md examples)', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.207 Safari/537.36',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.86 Safari/537.36',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.105 Mobile Safari/537.36',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36',
    ],
    [
      'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
      'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
    ],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Googlebot'],
  ])('reduces %s', (input, output) => {
    expect(reduceUserAgent(input)).toBe(output);
  });

  it('applies keep and remove', () => {
    expect(applyUserAgentRule('x/1.2', 'keep')).toBe('x/1.2');
    expect(applyUserAgentRule('x/1.2', 'remove')).toBeNull();
    expect(reduceUserAgent('  ')).toBeNull();
  });
});

describe.skipIf(!HAS_SHARED_DATA)(
  'userAgent reduce over the whole uap-core corpus (needs ../shared/data; skipped when absent)',
  () => {
    const corpus = HAS_SHARED_DATA
      ? (
          parse(readFileSync(sharedData('uap-core', 'test_ua.yaml'), 'utf8')) as {
            test_cases: { user_agent_string: string }[];
          }
        ).test_cases
      : [];

    it('maps every User-Agent to a template, keeping family and major version and no other version or device token', () => {
      expect(corpus.length).toBe(1601);
      const failures: string[] = [];
      for (const { user_agent_string: ua } of corpus) {
        const out = reduceUserAgent(ua);
        if (out === null) {
          if (ua.trim() !== '') failures.push(`null for ${ua}`);
          continue;
        }
        if (!REDUCED_UA_TEMPLATES.some((t) => t.test(out))) failures.push(`no template: ${out} <- ${ua}`);
        const before = new UAParser(ua).getResult();
        const after = new UAParser(out).getResult();
        // Safari and Mobile Safari are one family, told apart by the platform.
        const family = (n: string | undefined) => n?.replace(/^Mobile /, '');
        if (
          out.startsWith('Mozilla/5.0 (') &&
          (family(before.browser.name) !== family(after.browser.name) ||
            before.browser.major !== after.browser.major)
        ) {
          failures.push(
            `family/major changed: ${before.browser.name} ${before.browser.major} -> ${after.browser.name} ${after.browser.major}: ${ua}`,
          );
        }
        const model = before.device.model;
        if (
          model &&
          model.length > 2 &&
          model !== before.browser.name &&
          !/^(iPhone|iPad|Macintosh)$/.test(model) &&
          out.includes(model)
        ) {
          failures.push(`device model ${model} kept: ${out}`);
        }
        // Any version with a non-zero part after the major (other than the frozen template constants).
        for (const [version] of ua.matchAll(/\d+(?:[._]\d+){1,3}/g)) {
          if (
            /^\d+(?:[._]0)+$/.test(version) ||
            /^(537\.36|605\.1\.15|604\.1|10_15_7|10\.15|18_6|4\.0|86_64)$/.test(version)
          )
            continue;
          if (out.includes(version)) failures.push(`version ${version} kept: ${out} <- ${ua}`);
        }
      }
      expect(failures.slice(0, 20)).toEqual([]);
    });
  },
);
