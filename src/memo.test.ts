import { describe, expect, it } from 'vitest';
import { Memo, MEMO_PAUSE, MEMO_WINDOW } from './memo.js';

describe('Memo', () => {
  it('computes once per key, remembers null answers, and is cleared when full', () => {
    let calls = 0;
    const memo = new Memo<string | null>(3);
    const compute = (key: string) => (calls++, key === 'none' ? null : key.toUpperCase());
    expect(memo.get('a', compute)).toBe('A');
    expect(memo.get('a', compute)).toBe('A');
    expect(memo.get('none', compute)).toBeNull();
    expect(memo.get('none', compute)).toBeNull();
    expect(calls).toBe(2);
    memo.get('b', compute);
    expect(memo.has('a')).toBe(true);
    memo.get('c', compute); // the fourth key: the memo was full, so it starts again
    expect(memo.has('a')).toBe(false);
    expect(memo.has('c')).toBe(true);
  });

  it('answers a key asked twice in a row without computing again, and follows set()', () => {
    let calls = 0;
    const memo = new Memo<number>(100);
    const compute = (key: string) => (calls++, key.length);
    const long = 'x'.repeat(200);
    expect(memo.get(long, compute)).toBe(200);
    expect(memo.get('x'.repeat(200), compute)).toBe(200); // an equal string, another object
    expect(calls).toBe(1);
    memo.set(long, 7);
    expect(memo.get(long, compute)).toBe(7);
    expect(memo.get('y', compute)).toBe(1);
    expect(memo.get(long, compute)).toBe(7);
    expect(calls).toBe(2);
  });
});

describe('Memo of keys that seldom repeat', () => {
  it('pauses while fewer than one lookup in eight is a hit, still answering runs, then keeps again', () => {
    let calls = 0;
    const memo = new Memo<string>(100_000);
    const compute = (key: string) => (calls++, key.toUpperCase());
    // A window of lookups of distinct keys: the memo then pauses and holds nothing.
    for (let i = 0; i < MEMO_WINDOW; i++) memo.get(`k${i}`, compute);
    expect(memo.has('k1')).toBe(false);
    // Paused: a key asked again is computed again, but the same key twice in a row is not.
    calls = 0;
    expect(memo.get('k1', compute)).toBe('K1');
    expect(memo.get('k1', compute)).toBe('K1');
    expect(memo.get('k2', compute)).toBe('K2');
    expect(memo.get('k1', compute)).toBe('K1');
    expect(calls).toBe(3);
    expect(memo.has('k1')).toBe(false);
    // After the pause (three of its lookups made above), it keeps answers again.
    for (let i = 0; i < MEMO_PAUSE - 3; i++) memo.get(`p${i}`, compute);
    calls = 0;
    for (let i = 0; i < 100; i++) memo.get(i % 2 === 0 ? 'hot' : 'warm', compute);
    expect(calls).toBe(2);
    expect(memo.has('hot')).toBe(true);
  });

  it('keeps on when one lookup in eight or more is a hit', () => {
    const memo = new Memo<number>(100_000);
    // One lookup in seven asks a key asked before (a hit), the others each a new key.
    for (let i = 0; i < 2 * MEMO_WINDOW; i++) memo.get(i % 7 === 0 ? 'again' : `d${i}`, (k) => k.length);
    expect(memo.has('again')).toBe(true);
    expect(memo.has('d1')).toBe(true);
  });
});
