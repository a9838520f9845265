import { describe, expect, it } from 'vitest';
import { applyIpRule, trimIp } from './ip.js';

describe('ip switch', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0'],
    ['2001:db8:abcd:12:3456:789a:bcde:f012', '2001:db8:abcd::'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['::ffff:203.0.113.77', '203.0.113.0'],
    ['not an ip', null],
  ])('trims %s to %s', (input, output) => {
    expect(trimIp(input)).toBe(output);
  });

  it('keeps, trims or hides', () => {
    expect(applyIpRule('203.0.113.77', 'keep')).toBe('203.0.113.77');
    expect(applyIpRule('203.0.113.77', 'trim')).toBe('203.0.113.0');
    expect(applyIpRule('203.0.113.77', 'hide')).toBeNull();
  });
});
