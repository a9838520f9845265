/**
 * A bounded in-memory memo for a pure function of a string (or of a number): answers are kept
 * per node, never persisted, and the whole memo is cleared when it holds `limit` entries (hot
 * values come back at once; nothing grows with traffic).
 */
export class Memo<V, K extends string | number = string> {
  private readonly values = new Map<K, V>();
  // The last key asked and its answer: values come in runs (a page and its assets share the
  // User-Agent, the IP, the referrer), and comparing two strings costs less than hashing one.
  private lastKey: K | undefined;
  private lastValue: V | undefined;

  constructor(private readonly limit: number) {}

  /** The remembered answer for `key`, or `compute(key)` remembered. */
  get(key: K, compute: (key: K) => V): V {
    if (key === this.lastKey) return this.lastValue as V;
    let value = this.values.get(key);
    if (value === undefined && !this.values.has(key)) {
      value = compute(key);
      this.set(key, value);
    }
    this.lastKey = key;
    this.lastValue = value;
    return value as V;
  }

  /** The remembered answer for `key`, or undefined (for memos whose answers are never undefined). */
  peek(key: K): V | undefined {
    if (key === this.lastKey) return this.lastValue;
    const value = this.values.get(key);
    if (value !== undefined) {
      this.lastKey = key;
      this.lastValue = value;
    }
    return value;
  }

  /** True when an answer for `key` is remembered. */
  has(key: K): boolean {
    return this.values.has(key);
  }

  /** Remembers `value` for `key`. */
  set(key: K, value: V): void {
    if (this.values.size >= this.limit) this.values.clear();
    this.values.set(key, value);
    if (key === this.lastKey) this.lastValue = value;
  }
}
