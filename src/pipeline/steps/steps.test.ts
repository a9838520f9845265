import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { blankRow } from '../../store/row.js';
import type { PipelineContext, RawEvent } from '../event.js';
import { Pipeline } from '../runner.js';
import type { Step, StepInput } from '../step.js';
import { PIPELINE_STEPS } from '../steps.js';
import { clampTimestamp, CLOCK_WINDOW } from './clampTimestamp.js';
import { maskPersonalData } from './maskPersonalData.js';
import { putCampaign } from './putCampaign.js';
import { putDevice } from './putDevice.js';
import { putGeolocation } from './putGeolocation.js';
import { putPage } from './putPage.js';
import { putProps } from './putProps.js';
import { putReferrer } from './putReferrer.js';

const sites = parseConfig(
  {
    sites: [
      { host: 'www.example.fr', aliases: ['example.fr'] },
      { host: 'search.example', privacy: { profile: 'custom', query: { allow: ['q'] }, dlp: 'drop' } },
      { host: 'report.example', privacy: { profile: 'custom', dlp: 'report', referrer: 'remove' } },
    ],
  },
  { env: {} },
).sites;
const site = sites[0]!;
const now = Date.UTC(2026, 10, 22, 12, 0, 0);

function raw(overrides: Partial<RawEvent> = {}): RawEvent {
  return {
    type: 'pageview',
    name: null,
    url: 'https://www.example.fr/a/b?q=hello&utm_source=x#frag',
    title: '  Hello\n  world ',
    referrer: null,
    clientTimestamp: now,
    props: null,
    ip: '203.0.113.77',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    receivedAt: now,
    source: 'browser',
    ...overrides,
  };
}

function working(overrides: Partial<RawEvent> = {}, onSite = site): StepInput {
  const r = raw(overrides);
  return {
    raw: r,
    site: onSite,
    row: blankRow({ id: 'x', ts: r.receivedAt, site: onSite.host, type: r.type, source: r.source }),
  };
}

const findings: string[] = [];
const ctx: PipelineContext = {
  node: 'n1',
  countFinding: (site, kind) => findings.push(`${site}:${kind}`),
  geo: (ip) =>
    ip === '90.0.0.1'
      ? { country: 'FR', region: 'FR-IDF', asn: 3215 }
      : { country: null, region: null, asn: null },
  visitorHash: () => '42',
};

/**
 * Runs one step over `event` as the runner does (its findings counted, its columns set on the
 * row) and answers like the runner: the event, or the drop.
 */
function step(
  run: Step,
  event: StepInput,
): { kind: 'ok'; value: StepInput } | { kind: 'drop'; reason: string } {
  const outcome = run.run(event, ctx);
  if (outcome instanceof Promise) throw new Error(`${run.name} waited`);
  for (const kind of outcome.findings ?? []) ctx.countFinding(event.site.host, kind);
  if (outcome.kind === 'drop') return { kind: 'drop', reason: outcome.reason };
  Object.assign(event.row, outcome.set);
  return { kind: 'ok', value: event };
}

function value<T>(result: { kind: string; value?: T }): T {
  if (result.kind !== 'ok' || result.value === undefined)
    throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.value;
}

describe('clampTimestamp', () => {
  it('keeps a client time inside the window', () => {
    expect(value(step(clampTimestamp, working({ clientTimestamp: now - 5000 }))).row.ts).toBe(now - 5000);
  });
  it('clamps dates in 1970 and 2100 to the window around server time', () => {
    expect(value(step(clampTimestamp, working({ clientTimestamp: 0 }))).row.ts).toBe(
      now - CLOCK_WINDOW.pastMs,
    );
    expect(value(step(clampTimestamp, working({ clientTimestamp: Date.UTC(2100, 0, 1) }))).row.ts).toBe(
      now + CLOCK_WINDOW.futureMs,
    );
  });
  it('uses the server time when the client sent none', () => {
    expect(value(step(clampTimestamp, working({ clientTimestamp: null }))).row.ts).toBe(now);
  });
});

describe('putPage', () => {
  it('keeps the path only, never the query string or fragment, and a trimmed title', () => {
    const row = value(step(putPage, working())).row;
    expect(row.path).toBe('/a/b');
    expect(row.title).toBe('Hello world');
  });
  it('drops an event whose location is not an http(s) URL, with reason invalid', () => {
    expect(step(putPage, working({ url: 'not a url' }))).toMatchObject({ kind: 'drop', reason: 'invalid' });
    expect(step(putPage, working({ url: 'ftp://www.example.fr/x' }))).toMatchObject({
      kind: 'drop',
      reason: 'invalid',
    });
  });
});

describe('putPage with query: {allow}', () => {
  it('stores only the allow-listed parameters with the path', () => {
    const row = value(
      step(
        putPage,
        working({ url: 'https://search.example/find?q=velo&utm_source=x&email=a@b.c' }, sites[1]),
      ),
    ).row;
    expect(row.path).toBe('/find?q=velo');
  });
});

describe('putCampaign', () => {
  it('keeps the campaign of the page URL, lower-cased and bounded, and a paid flag without the click id', () => {
    const row = value(
      step(
        putCampaign,
        working({
          url: `https://www.example.fr/?utm_source=Newsletter&utm_medium=%20Email%20&utm_campaign=${'x'.repeat(150)}&utm_term=velo&utm_content=bas&gclid=ABC123secret`,
        }),
      ),
    ).row;
    expect(row).toMatchObject({
      utmSource: 'newsletter',
      utmMedium: 'email',
      utmCampaign: 'x'.repeat(100),
      utmTerm: 'velo',
      utmContent: 'bas',
      paid: true,
    });
    expect(JSON.stringify(row)).not.toContain('ABC123');
  });

  it('reads ref or source when utm_source is absent, and nothing from a URL without a campaign', () => {
    expect(
      value(step(putCampaign, working({ url: 'https://www.example.fr/?ref=ProductHunt' }))).row.utmSource,
    ).toBe('producthunt');
    expect(
      value(step(putCampaign, working({ url: 'https://www.example.fr/?source=rss&utm_source=' }))).row
        .utmSource,
    ).toBe('rss');
    const plain = value(step(putCampaign, working({ url: 'https://www.example.fr/a?q=1' }))).row;
    expect([plain.utmSource, plain.utmMedium, plain.paid]).toEqual([null, null, false]);
  });

  it('is masked by DLP like any stored text', async () => {
    findings.length = 0;
    const result = await new Pipeline(PIPELINE_STEPS).run(
      raw({ url: 'https://www.example.fr/?utm_source=mail&utm_content=jean.dupont%40example.fr' }),
      site,
      ctx,
    );
    expect(value(result)).toMatchObject({ utmSource: 'mail', utmContent: '[redacted:email]', path: '/' });
    expect(findings).toContain('www.example.fr:email');
  });
});

describe('putReferrer', () => {
  it('treats another host of the same registrable domain as internal (Public Suffix List)', () => {
    const row = value(step(putReferrer, working({ referrer: 'https://blog.example.fr/post?id=1' }))).row;
    expect([row.referrerHost, row.referrerClass]).toEqual([null, null]);
  });
  it('keeps nothing of any referrer under referrer: remove', () => {
    const row = value(step(putReferrer, working({ referrer: 'https://www.google.com/' }, sites[2]))).row;
    expect([row.referrerHost, row.referrerClass]).toEqual([null, null]);
  });
  it('keeps an external referrer’s host and class, never its path or query', () => {
    const row = value(
      step(putReferrer, working({ referrer: 'https://www.google.com/search?q=jane+doe' })),
    ).row;
    expect([row.referrerHost, row.referrerClass]).toEqual(['www.google.com', 'search']);
  });
  it.each([
    ['https://news.example.org/article?id=7', 'news'],
    ['https://t.co/abc', 'social'],
    ['https://www.facebook.com/', 'social'],
    ['https://mail.google.com/mail/u/0', 'email'],
    ['https://blog.example.net/post', 'other'],
  ])('classifies %s as %s', (referrer, cls) => {
    expect(value(step(putReferrer, working({ referrer }))).row.referrerClass).toBe(cls);
  });
  it('leaves internal navigation (host or alias) and unparsable referrers empty', () => {
    for (const referrer of [
      'https://example.fr/previous',
      'https://www.example.fr/x?y=1',
      'garbage',
      'android-app://com.x',
    ]) {
      const row = value(step(putReferrer, working({ referrer }))).row;
      expect([row.referrerHost, row.referrerClass]).toEqual([null, null]);
    }
  });
});

describe('putDevice', () => {
  it('replaces the User-Agent with families and a device type', () => {
    const row = value(step(putDevice, working())).row;
    expect(row).toMatchObject({ browser: 'Mobile Safari', os: 'iOS', deviceType: 'mobile', isBot: false });
  });
  it('flags crawlers as bots', () => {
    const row = value(
      step(
        putDevice,
        working({ userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }),
      ),
    ).row;
    expect(row).toMatchObject({ deviceType: 'bot', isBot: true });
  });
  it('treats an empty User-Agent as a bot', () => {
    expect(value(step(putDevice, working({ userAgent: '' }))).row.isBot).toBe(true);
  });
});

describe('putGeolocation', () => {
  it('sets country, region and ASN from the IP', () => {
    const row = value(step(putGeolocation, working({ ip: '90.0.0.1' }))).row;
    expect([row.country, row.region, row.asn]).toEqual(['FR', 'FR-IDF', 3215]);
  });
});

describe('putProps', () => {
  it('keeps the name and props, with query strings removed from URL values', () => {
    const row = value(
      step(
        putProps,
        working({
          name: 'share',
          props: {
            url: 'https://x.example/p?email=a@b.c#f',
            n: 2,
            nested: [{ page_location: 'http://y.example/?gclid=1' }],
          },
        }),
      ),
    ).row;
    expect(row.name).toBe('share');
    expect(JSON.parse(String(row.props))).toEqual({
      url: 'https://x.example/p',
      n: 2,
      nested: [{ page_location: 'http://y.example/' }],
    });
  });
  it('stores no props when there are none', () => {
    expect(value(step(putProps, working({ props: {} }))).row.props).toBeNull();
  });
});

describe('maskPersonalData', () => {
  function masked(name: string | null, title: string | null, path: string, props: unknown, onSite = site) {
    const event = working({}, onSite);
    Object.assign(event.row, { name, title, path, props: props === null ? null : JSON.stringify(props) });
    return step(maskPersonalData, event);
  }

  it('masks personal data in the name, title, path and property keys and values, and counts findings by kind', () => {
    findings.length = 0;
    const result = value(
      masked('signup jane@example.fr', 'Profil de 06 12 34 56 78', '/u/jane@example.fr', {
        iban: 'FR76 3000 6000 0112 3456 7890 189',
        'a@b.fr': 1,
        list: ['4111 1111 1111 1111'],
      }),
    );
    expect(result.row.name).toBe('signup [redacted:email]');
    expect(result.row.title).toBe('Profil de [redacted:phone]');
    expect(result.row.path).toBe('/u/[redacted:email]');
    expect(JSON.parse(String(result.row.props))).toEqual({
      iban: '[redacted:iban]',
      '[redacted:email]': 1,
      list: ['[redacted:card]'],
    });
    expect(findings.sort()).toEqual(
      ['card', 'email', 'email', 'email', 'iban', 'phone'].map((k) => `www.example.fr:${k}`),
    );
  });

  it('drops the event with reason dlp_blocked under dlp: drop', () => {
    expect(masked('x', 'mail me: a@b.fr', '/', null, sites[1])).toMatchObject({
      kind: 'drop',
      reason: 'dlp_blocked',
    });
    expect(masked('x', 'nothing here', '/', null, sites[1]).kind).toBe('ok');
  });

  it('only counts under dlp: report', () => {
    findings.length = 0;
    const result = value(masked(null, 'a@b.fr', '/', null, sites[2]));
    expect(result.row.title).toBe('a@b.fr');
    expect(findings).toEqual(['report.example:email']);
  });
});

describe('runPipeline', () => {
  it('runs every collect step and returns a row without raw IP, UA or query', async () => {
    const result = await new Pipeline(PIPELINE_STEPS).run(
      raw({ ip: '90.0.0.1', referrer: 'https://news.example.org/a?id=7' }),
      site,
      ctx,
    );
    const row = value(result);
    expect(row).toMatchObject({
      site: 'www.example.fr',
      path: '/a/b',
      country: 'FR',
      visitorHash: '42',
      node: 'n1',
      referrerClass: 'news',
    });
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const text = JSON.stringify(row);
    for (const leak of ['90.0.0.1', 'utm_source', 'q=hello', 'iPhone OS 17_4', 'id=7'])
      expect(text).not.toContain(leak);
  });
  it('reports the step and reason of a drop', async () => {
    const result = await new Pipeline(PIPELINE_STEPS).run(raw({ url: 'mailto:x' }), site, ctx);
    expect(result).toMatchObject({ kind: 'drop', reason: 'invalid', step: 'putPage' });
  });
});

describe('every pipeline step', () => {
  // The runner memoises a step on what it declares it reads: a step that read anything else
  // would be given another event's answer.
  it.each(PIPELINE_STEPS.map((s) => [s.name, s] as const))(
    '%s reads only the raw fields and row columns it declares',
    async (_name, step) => {
      const read = new Set<string>();
      const watch = <T extends object>(target: T, prefix: string): T =>
        new Proxy(target, {
          get(object, key, receiver) {
            if (typeof key === 'string') read.add(`${prefix}.${key}`);
            return Reflect.get(object, key, receiver) as unknown;
          },
        });
      const variants: Partial<RawEvent>[] = [
        {},
        {
          referrer: 'https://news.example.org/a?id=7',
          name: 'share',
          props: { url: 'https://x.example/?a=1' },
        },
        {
          type: 'dns',
          url: '',
          source: 'import',
          clientTimestamp: null,
          country: 'DE',
          deviceType: 'tablet',
        },
        { title: 'mail a@b.fr', url: 'https://www.example.fr/u/a@b.fr' },
      ];
      for (const variant of variants) {
        const event = working(variant);
        Object.assign(event.row, { name: 'n', title: 't', path: '/p', props: '{"a":"b"}' });
        const outcome = step.run(
          { raw: watch(event.raw, 'raw'), site: event.site, row: watch(event.row, 'row') },
          ctx,
        );
        if (outcome instanceof Promise) await outcome;
      }
      const declared = new Set([
        ...step.reads.map((field) => `raw.${field}`),
        ...(step.readsRow ?? []).map((column) => `row.${column}`),
      ]);
      expect([...read].filter((key) => !declared.has(key))).toEqual([]);
      // And each declared input is one the step reads at least once.
      expect([...declared].filter((key) => !read.has(key))).toEqual([]);
    },
  );
});

describe('Pipeline', () => {
  it('runs a memoised step once per distinct input and site, and counts its findings for every event', async () => {
    let runs = 0;
    const counting: Step = {
      name: 'counting',
      reads: ['title'],
      run: ({ raw }) => {
        runs++;
        return raw.title?.includes('@')
          ? { kind: 'ok', set: { title: 'masked' }, findings: ['email'] }
          : { kind: 'ok', set: { title: raw.title } };
      },
    };
    const pipeline = new Pipeline([counting], { memo: 100 });
    findings.length = 0;
    const titles = ['a', 'b', 'a', 'x@y.fr', 'a', 'x@y.fr', null, null];
    const rows = [];
    for (const title of titles) {
      const result = await pipeline.run(raw({ title }), site, ctx);
      rows.push(value(result).title);
    }
    await pipeline.run(raw({ title: 'a' }), sites[1]!, ctx);
    expect(runs).toBe(4 + 1);
    expect(rows).toEqual(['a', 'b', 'a', 'masked', 'a', 'masked', null, null]);
    expect(findings).toEqual(['www.example.fr:email', 'www.example.fr:email']);
  });

  it('skips a step for the row types it declares none of its business', async () => {
    const row = value(
      await new Pipeline(PIPELINE_STEPS).run(raw({ type: 'dns', url: '', userAgent: '' }), site, ctx),
    );
    expect([row.path, row.isBot, row.deviceType]).toEqual([null, false, null]);
  });
});

describe('putScreen', () => {
  it('keeps the class of the window width, never the width; nothing without one', async () => {
    const { putScreen, screenClass } = await import('./putScreen.js');
    expect([375, 575, 576, 991, 992, 1439, 1440, 2560].map(screenClass)).toEqual([
      'mobile',
      'mobile',
      'tablet',
      'tablet',
      'laptop',
      'laptop',
      'desktop',
      'desktop',
    ]);
    expect(value(step(putScreen, working({ viewportWidth: 1200 }))).row.screenClass).toBe('laptop');
    expect(value(step(putScreen, working({}))).row.screenClass).toBeNull();
    expect(value(step(putScreen, working({ viewportWidth: 0 }))).row.screenClass).toBeNull();
  });
});
