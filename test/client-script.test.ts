import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ECOMMERCE_EVENTS } from '../src/collect/event-schema.js';
import { CLIENT_SCRIPT_PATH } from '../src/collect/script.js';

const script = readFileSync(CLIENT_SCRIPT_PATH);

describe('client script s.js', () => {
  it('is at most 2 KB gzipped', () => {
    const size = gzipSync(script, { level: 9 }).length;
    expect(size).toBeLessThanOrEqual(2048);
  });

  it('knows two cookies only, the consent choice and the debug key the site owner sets by hand (browser tests: none is set otherwise), and localStorage only behind data-persist', () => {
    const text = script.toString();
    expect(text).toContain('balise_consent');
    expect(text).toContain('balise_debug');
    expect(text).not.toMatch(/_ga\b|_gid|_fbp|_fbc|_pk_id/);
    expect(text.match(/\.cookie\s*=/g)).toHaveLength(2);
    expect(text).toContain('data-persist');
  });

  it('accepts exactly Zaraz’s 19 e-commerce event names on the server', () => {
    expect(new Set(ECOMMERCE_EVENTS).size).toBe(19);
  });
});
