import { describe, expect, it } from 'vitest';
import { Memo } from './memo.js';

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
