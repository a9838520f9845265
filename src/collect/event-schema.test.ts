import { describe, expect, it } from 'vitest';
import { fastWireEvent, parseWireBody, wireEventSchema } from './event-schema.js';

// The hand-written check of the hot path may only accept what the schema accepts, with the same
// result: compared on many events built from boundary values of every field.
const VALUES: Record<string, unknown[]> = {
  eventType: ['pageview', 'track', 'ecommerce', 'other', '', 1, null],
  name: [undefined, '', 'signup', 'x'.repeat(200), 'x'.repeat(201), 'Order Completed', 7, null],
  location: [
    'https://www.example.fr/a?b=1',
    'http://localhost:8081/',
    'https://x.fr/' + 'a'.repeat(2035),
    'https://x.fr/' + 'a'.repeat(2036),
    'ftp://www.example.fr/',
    'https://exa mple.fr/',
    'https://',
    'javascript:alert(1)',
    'HTTPS://WWW.EXAMPLE.FR/',
    'http://[::1]:8080/',
    '',
    undefined,
    3,
  ],
  title: [undefined, '', 'Article', 'é'.repeat(1000), 'é'.repeat(1001), null, 12],
  referer: [undefined, '', 'https://www.google.com/', 'not a url', 'https://a.fr/' + 'b'.repeat(2040), null],
  timestamp: [undefined, 0, -1, 1.5, Date.now(), 8_640_000_000_000, 8_640_000_000_001, '1', null],
  offset: [undefined, 0, -900, 900, 901, -901, 60.5, '0'],
  language: [undefined, 'fr-FR', 'fr', 'zh-Hant-TW', 'x'.repeat(36), 'fr_FR', '', '123', 5],
  screenWidth: [undefined, 0, 1920, 100_000, 100_001, -1, 1.5, '1920'],
  viewportHeight: [undefined, 0, 800, 100_001],
  payload: [undefined, undefined, undefined, { plan: 'pro' }, []],
  consent: [undefined, undefined, undefined, { analytics: true }],
  extra: [undefined, undefined, undefined, undefined, 'unexpected'],
};

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

describe('fastWireEvent', () => {
  it('accepts only what the schema accepts, with the same value (20,000 generated events)', () => {
    const next = random(42);
    let fastAccepted = 0;
    let schemaOnly = 0;
    for (let i = 0; i < 20_000; i++) {
      const event: Record<string, unknown> = {};
      for (const [field, values] of Object.entries(VALUES)) {
        // Mostly valid values (the first few), so that many events pass both checks.
        const pick =
          next() < 0.7
            ? values[Math.floor(next() * Math.min(3, values.length))]
            : values[Math.floor(next() * values.length)];
        if (pick !== undefined) event[field] = pick;
      }
      const fast = fastWireEvent(event);
      const schema = wireEventSchema.safeParse(event);
      if (fast) {
        fastAccepted++;
        expect(schema.success, JSON.stringify(event).slice(0, 300)).toBe(true);
        expect(fast).toEqual(schema.data);
      } else if (schema.success) schemaOnly++;
    }
    // Both paths are exercised: the fast one for common events, the schema for the rest.
    expect(fastAccepted).toBeGreaterThan(500);
    expect(schemaOnly).toBeGreaterThan(100);
  });

  it('leaves invalid events to the schema, which names the field', () => {
    const result = parseWireBody({ eventType: 'pageview', location: 'https://x.fr/', screenWidth: '1920' });
    expect(result.success).toBe(false);
    if (!result.success) expect(result.issues[0]!.path).toEqual(['screenWidth']);
    const batch = parseWireBody({ events: [{ eventType: 'pageview', location: 'https://x.fr/' }] });
    expect(batch).toEqual({ success: true, data: [{ eventType: 'pageview', location: 'https://x.fr/' }] });
  });
});
