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

  it('derives the same id from the same input, and another from another', () => {
    expect(deterministicId(5, 'a')).toBe(deterministicId(5, 'a'));
    expect(deterministicId(5, 'a')).not.toBe(deterministicId(5, 'b'));
    expect(deterministicId(5, 'a')).toMatch(UUID_V7);
  });
});
