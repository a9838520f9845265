import { describe, expect, it } from 'vitest';
import { csvTime } from './csv.js';

describe('csvTime', () => {
  it('prints every whole millisecond time below 2^53 as String does', () => {
    let seed = 11;
    const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    const values = [
      0,
      9,
      999_999,
      1_000_000,
      2 ** 30 - 1,
      2 ** 30,
      1_000_000_000_000,
      1_431_857_100_007,
      2 ** 53 - 1,
    ];
    for (let i = 0; i < 5_000; i++)
      values.push(Math.floor(random() * 2 ** 53), Math.floor(random() * 2 ** 41));
    for (const value of values) expect(csvTime(value), String(value)).toBe(String(value));
    // Fractions of a millisecond are cut, as the store's BIGINT column would.
    expect(csvTime(1_431_857_100_000.7)).toBe('1431857100000');
    expect(csvTime(-5)).toBe('-5');
  });
});
