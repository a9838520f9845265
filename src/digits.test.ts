import { describe, expect, it } from 'vitest';
import { groupDigits } from './digits.js';

describe('groupDigits', () => {
  it("prints what toLocaleString('en-US') prints", () => {
    const values = [
      0, 7, 999, 1000, 12_345, 1_234_567, -1_234_567, 0.5, 1234.5678, -0.0004, -0, 987_654_321.1, 1e20,
    ];
    for (const value of values) expect(groupDigits(value), String(value)).toBe(value.toLocaleString('en-US'));
  });
});
