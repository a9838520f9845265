/**
 * A bounded in-memory memo for a pure function of a string: answers are kept per node, never
 * persisted, and the whole memo is cleared when it holds `limit` entries (hot values come back
 * at once; nothing grows with traffic).
 */
export class Memo<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly limit: number) {}

  /** The remembered answer for `key`, or `compute(key)` remembered. */
  get(key: string, compute: (key: string) => V): V {
    const found = this.values.get(key);
    if (found !== undefined || this.values.has(key)) return found as V;
    const value = compute(key);
    this.set(key, value);
    return value;
  }

  /** True when an answer for `key` is remembered. */
  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Remembers `value` for `key`. */
  set(key: string, value: V): void {
    if (this.values.size >= this.limit) this.values.clear();
    this.values.set(key, value);
  }
}
