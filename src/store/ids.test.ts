import { describe, expect, it } from 'vitest';
import { deterministicId, newEventId } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('makes unique, well-formed UUIDv7s whose first 48 bits are the time', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => newEventId(1_763_800_000_000)));
    expect(ids.size).toBe(20_000);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    const id = newEventId(1_763_800_000_000);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(1_763_800_000_000);
  });

  it('orders ids by time across milliseconds', () => {
    expect(newEventId(1000) < newEventId(1001)).toBe(true);
  });

  it('puts the 48-bit time first in derived ids too, for any time (the same as printing it in hex)', () => {
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    const times = [
      0,
      1,
      255,
      2 ** 24 - 1,
      2 ** 24,
      2 ** 32,
      2 ** 48 - 1,
      2 ** 48,
      2 ** 48 + 5,
      1_431_857_100_000.5,
    ];
    for (let i = 0; i < 5_000; i++)
      times.push(Math.floor(random() * 2 ** 48), Math.floor(random() * 2 ** 42));
    for (const ts of times) {
      const id = deterministicId(ts, `k${ts}`);
      expect(id).toMatch(UUID_V7);
      const hex = (Math.trunc(ts) % 2 ** 48).toString(16).padStart(12, '0');
      expect(id.slice(0, 14), String(ts)).toBe(`${hex.slice(0, 8)}-${hex.slice(8)}-`);
    }
  });

  it('derives the same id from the same input, and another from another', () => {
    expect(deterministicId(5, 'a')).toBe(deterministicId(5, 'a'));
    expect(deterministicId(5, 'a')).not.toBe(deterministicId(5, 'b'));
    expect(deterministicId(5, 'a')).toMatch(UUID_V7);
    // The same ids as every earlier version: re-importing a file or re-seeding never adds rows.
    expect(
      [
        [0, 'a'],
        [1763800000000, 'import\nsite\n0\nline'],
        [2 ** 48 + 5, 'x'],
        [1431853565000, 'semicomplete.com/a'],
        [123.9, 'é'],
      ].map(([ts, key]) => deterministicId(ts as number, key as string)),
    ).toEqual([
      '00000000-0000-7a97-8112-ca1bbdcafac2',
      '019aaaac-2600-718b-b37a-8f0551f2a077',
      '00000000-0005-7d71-9642-b726b0440162',
      '014d611f-8448-7162-81b5-dafa03358fdd',
      '00000000-007b-7a99-957e-4033c3539de2',
    ]);
  });
});
