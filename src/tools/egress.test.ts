import { describe, expect, it } from 'vitest';
import { checkAddress, checkRequest, isPrivateAddress, recentLookups, type EgressRules } from './egress.js';

const rules = (over: Partial<EgressRules> = {}): EgressRules => ({
  manifestHosts: [
    { host: 'region1.google-analytics.com', eu: true },
    { host: 'www.google-analytics.com', eu: false },
  ],
  operatorHosts: [],
  region: 'eu',
  dlp: 'mask',
  maxBodyBytes: 1000,
  ...over,
});
const post = (url: string, body: string | null = null, headers: Record<string, string> = {}) => ({
  url,
  method: 'POST',
  headers,
  body,
});

describe('egress guard', () => {
  it('allows only the allow-list, https, and EU endpoints under region eu', () => {
    expect(checkRequest(post('https://region1.google-analytics.com/mp/collect'), rules()).ok).toBe(true);
    expect(checkRequest(post('https://www.google-analytics.com/mp/collect'), rules())).toEqual({
      ok: false,
      reason: 'region eu: www.google-analytics.com is not an EU endpoint',
    });
    expect(
      checkRequest(post('https://www.google-analytics.com/mp/collect'), rules({ region: 'any' })).ok,
    ).toBe(true);
    expect(checkRequest(post('https://evil.example/x'), rules())).toMatchObject({
      ok: false,
      reason: "host evil.example is not on the tool's allow-list",
    });
    expect(checkRequest(post('http://region1.google-analytics.com/'), rules())).toMatchObject({ ok: false });
    expect(checkRequest(post('https://u:p@region1.google-analytics.com/'), rules())).toMatchObject({
      ok: false,
      reason: 'credentials in the URL',
    });
    expect(checkRequest(post('http://127.0.0.1:9/x'), rules({ operatorHosts: ['127.0.0.1'] })).ok).toBe(true);
  });

  it('judges a URL the same the second time (clean URLs are remembered per tool, others scanned again)', () => {
    const tool = rules();
    const clean = 'https://region1.google-analytics.com/mp/collect?measurement_id=G-1&api_secret=s';
    const personal = 'https://region1.google-analytics.com/mp/collect?dl=jane.doe%40example.fr';
    for (let i = 0; i < 2; i++) {
      expect(checkRequest(post(clean), tool)).toMatchObject({
        ok: true,
        request: { url: clean },
        findings: [],
      });
      const masked = checkRequest(post(personal), tool);
      expect(masked).toMatchObject({ ok: true, findings: ['email'] });
      expect(masked.ok && masked.request.url).toContain('redacted');
      expect(checkRequest(post(personal), { ...tool, dlp: 'drop' })).toMatchObject({ ok: false });
      // Another tool's rules are its own: the allow-list is checked again.
      expect(checkRequest(post(clean), rules({ manifestHosts: [] }))).toMatchObject({ ok: false });
    }
  });

  it('leaves the gateway’s own event id and the headers a seal makes again as they are, scanning the rest', () => {
    const id = '01935f2a-4111-7111-8111-411111111111';
    const request = post(
      'https://region1.google-analytics.com/mp/collect',
      JSON.stringify({ event_id: id, note: 'jane.doe@example.fr' }),
      {
        'content-type': 'application/json',
        'x-signature': 'jane.doe@example.fr',
        'x-other': 'jane.doe@example.fr',
      },
    );
    const decision = checkRequest(request, rules({ sealedHeaders: ['x-signature'] }), new Set([id]));
    expect(decision).toMatchObject({ ok: true, findings: ['email', 'email'] });
    if (!decision.ok) return;
    expect(JSON.parse(decision.request.body!)).toEqual({ event_id: id, note: '[redacted:email]' });
    expect(decision.request.headers['x-signature']).toBe('jane.doe@example.fr');
    expect(decision.request.headers['x-other']).toBe('[redacted:email]');
    // Without them, every value is scanned.
    expect(checkRequest(request, rules())).toMatchObject({ ok: true, findings: ['email', 'email', 'email'] });
  });

  it('masks personal data in the URL, headers and a JSON or form body; drop refuses; report counts', () => {
    const request = post(
      'https://region1.google-analytics.com/mp/collect?dl=https%3A%2F%2Fx.fr%2F%3Fmail%3Djane.doe%40example.fr&tid=G-1',
      JSON.stringify({ user: { phone: '+33 6 12 34 56 78' }, note: 'card 4111 1111 1111 1111' }),
      { 'content-type': 'application/json', 'x-note': 'jane.doe@example.fr' },
    );
    const masked = checkRequest(request, rules());
    expect(masked.ok).toBe(true);
    if (!masked.ok) return;
    expect(masked.findings.sort()).toEqual(['card', 'email', 'email', 'phone']);
    const all = JSON.stringify(masked.request);
    expect(all).not.toContain('jane.doe');
    expect(all).not.toContain('4111');
    expect(all).not.toContain('12 34 56 78');
    expect(masked.request.headers['x-note']).toBe('[redacted:email]');
    const form = checkRequest(
      post('https://region1.google-analytics.com/', 'a=1&email=jane.doe%40example.fr', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      rules(),
    );
    expect(form.ok && form.request.body).toBe('a=1&email=%5Bredacted%3Aemail%5D');
    expect(checkRequest(request, rules({ dlp: 'drop' }))).toMatchObject({ ok: false });
    const reported = checkRequest(request, rules({ dlp: 'report' }));
    expect(reported.ok && reported.request.headers['x-note']).toBe('jane.doe@example.fr');
    expect(reported.ok && reported.findings.length).toBe(4);
  });

  it('refuses bodies over the size limit', () => {
    expect(checkRequest(post('https://region1.google-analytics.com/', 'x'.repeat(1001)), rules())).toEqual({
      ok: false,
      reason: 'body larger than 1000 bytes',
    });
  });

  it('refuses private, loopback, link-local (metadata) and mapped addresses unless the operator listed the host', async () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(address), address).toBe(false);
    const resolvesTo = (address: string) => () => Promise.resolve([address]);
    expect(await checkAddress('http://169.254.169.254/latest/', [])).toBe(
      '169.254.169.254 resolves to the private address 169.254.169.254',
    );
    expect(await checkAddress('https://vendor.example/', [], resolvesTo('10.0.0.5'))).toBe(
      'vendor.example resolves to the private address 10.0.0.5',
    );
    expect(await checkAddress('https://vendor.example/', [], resolvesTo('93.184.215.14'))).toBeNull();
    expect(await checkAddress('http://127.0.0.1:8080/', ['127.0.0.1'])).toBeNull();
    expect(await checkAddress('https://localhost/', [])).toMatch(/private address/);
  });

  it('resolves a host once for many deliveries (recentLookups), each host on its own', async () => {
    const asked: string[] = [];
    const resolve = recentLookups((host) => (asked.push(host), Promise.resolve(['93.184.215.14'])));
    for (let i = 0; i < 5; i++) {
      expect(await checkAddress('https://vendor.example/a', [], resolve)).toBeNull();
      expect(await checkAddress('https://other.example/b', [], resolve)).toBeNull();
    }
    expect(asked).toEqual(['vendor.example', 'other.example']);
  });
});
