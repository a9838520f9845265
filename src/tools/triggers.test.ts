import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config/load.js';
import { emptyRow, type EventRow } from '../store/row.js';
import { compileTriggers, firingsOf, globTest } from './triggers.js';

function site(triggers: unknown[], tools: unknown[] = []) {
  return parseConfig({ sites: [{ host: 'www.example.fr', triggers, tools }] }, { env: {} }).sites[0]!;
}

const row = (over: Partial<EventRow>): EventRow => ({
  ...emptyRow({
    id: 'e1',
    ts: 0,
    site: 'www.example.fr',
    type: 'event',
    node: null,
    status: null,
    bytes: null,
    source: 'browser',
  }),
  ...over,
});

describe('triggers', () => {
  it('matches * patterns by their literal parts, in order', () => {
    expect(globTest('/checkout/*')('/checkout/pay')).toBe(true);
    expect(globTest('/checkout/*')('/checkout')).toBe(false);
    expect(globTest('*sign*up*')('user_signed_up_now')).toBe(true);
    expect(globTest('a*a')('a')).toBe(false);
    expect(globTest('signup')('signup2')).toBe(false);
    // Many stars over a long text stay linear (no backtracking to blow up).
    expect(globTest('*a*a*a*a*a*b')('a'.repeat(100_000))).toBe(false);
  });

  it('ANDs the rules of a trigger: type (track is an event), name, path, properties', () => {
    const triggers = compileTriggers(
      site([
        {
          id: 'pro',
          match: { type: 'track', name: 'sign*', path: '/join/*', props: { plan: 'pro', seats: 5 } },
        },
      ]),
    );
    const pro = triggers.get('pro')!;
    const event = row({ type: 'event', name: 'signup', path: '/join/now' });
    expect(pro(event, { plan: 'pro', seats: 5 })).toBe(true);
    expect(pro(event, { plan: 'pro', seats: '5' })).toBe(true);
    expect(pro(event, { plan: 'free', seats: 5 })).toBe(false);
    expect(pro({ ...event, type: 'pageview' }, { plan: 'pro', seats: 5 })).toBe(false);
    expect(pro({ ...event, path: '/other' }, { plan: 'pro', seats: 5 })).toBe(false);
  });

  it('takes exclude rules and numeric ranges, as Zaraz’s exclude rules and comparisons', () => {
    const triggers = compileTriggers(
      site([
        {
          id: 'big-orders',
          match: { type: 'ecommerce', props: { total: { gte: 100 } } },
          exclude: { props: { coupon: 'STAFF*' } },
        },
      ]),
    );
    const big = triggers.get('big-orders')!;
    const order = row({ type: 'ecommerce', name: 'Order Completed' });
    expect(big(order, { total: 120 })).toBe(true);
    expect(big(order, { total: '100' })).toBe(true);
    expect(big(order, { total: 99.5 })).toBe(false);
    expect(big(order, { total: 'lots' })).toBe(false);
    expect(big(order, { total: 500, coupon: 'STAFF-10' })).toBe(false);
  });

  it('fires an action on any of its triggers unless one of its own blocking triggers matches', () => {
    const config = site(
      [
        { id: 'signups', match: { name: 'signup' } },
        { id: 'leads', match: { name: 'lead' } },
        { id: 'tests', match: { props: { test: true } } },
      ],
      [
        {
          id: 'hook',
          component: 'webhook',
          settings: { url: 'https://hooks.example.fr/', secret: 's' },
          actions: [
            { trigger: ['signups', 'leads'], event: 'Lead', blockingTriggers: ['tests'] },
            { trigger: 'leads' },
          ],
        },
      ],
    );
    const triggers = compileTriggers(config);
    const tool = config.tools[0]!;
    const lead = row({ type: 'event', name: 'lead' });
    expect(firingsOf(tool, triggers, lead, {}, 'event', new Map()).map((f) => f.type)).toEqual([
      'Lead',
      'event',
    ]);
    expect(firingsOf(tool, triggers, lead, { test: true }, 'event', new Map()).map((f) => f.type)).toEqual([
      'event',
    ]);
    expect(
      firingsOf(tool, triggers, row({ type: 'event', name: 'signup' }), {}, 'event', new Map()).map(
        (f) => f.type,
      ),
    ).toEqual(['Lead']);
  });

  it('fires one event per matching action, of its type; a blocking trigger stops all', () => {
    const config = site(
      [
        { id: 'signups', match: { name: 'signup' } },
        { id: 'tests', match: { props: { test: true } } },
      ],
      [
        {
          id: 'hook',
          component: 'webhook',
          settings: { url: 'https://hooks.example.fr/', secret: 's' },
          actions: [{ trigger: 'signups', event: 'Lead' }, { trigger: 'signups' }],
          blockingTriggers: ['tests'],
        },
      ],
    );
    const triggers = compileTriggers(config);
    const tool = config.tools[0]!;
    const signup = row({ type: 'event', name: 'signup' });
    expect(firingsOf(tool, triggers, signup, {}, 'event', new Map()).map((f) => f.type)).toEqual([
      'Lead',
      'event',
    ]);
    expect(firingsOf(tool, triggers, signup, { test: true }, 'event', new Map())).toEqual([]);
    expect(firingsOf(tool, triggers, row({ type: 'pageview' }), null, 'pageview', new Map())).toEqual([]);
  });

  it('refuses an action or blocking trigger naming no trigger of the site, by path', () => {
    expect(() =>
      site(
        [],
        [{ id: 'hook', component: 'webhook', actions: [{ trigger: 'nope' }], blockingTriggers: ['gone'] }],
      ),
    ).toThrow(ConfigError);
    expect(() => site([], [{ id: 'hook', component: 'webhook', actions: [{ trigger: 'nope' }] }])).toThrow(
      "sites[0].tools[0].actions[0].trigger: trigger nope is not in this site's triggers (none)",
    );
  });
});
