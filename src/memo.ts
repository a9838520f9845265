/** Lookups per measure of a memo's use (few: a memo of keys that never repeat holds that many at most). */
export const MEMO_WINDOW = 1_024;
/** A memo answering fewer than one lookup in this many (in a window) stops keeping answers… */
const MIN_HIT_EVERY = 8;
/** …for this many lookups, then keeps and measures again. */
export const MEMO_PAUSE = 16 * MEMO_WINDOW;

/**
 * A bounded in-memory memo for a pure function of a string (or of a number): answers are kept
 * per node, never persisted, and the whole memo is cleared when it holds `limit` entries (hot
 * values come back at once; nothing grows with traffic). A memo whose keys seldom repeat (fewer
 * than one hit in MIN_HIT_EVERY lookups over MEMO_WINDOW of them: an import's log whose paths, IPs or
 * referrers are all distinct) pauses — it keeps nothing for MEMO_PAUSE lookups, then measures again:
 * keeping answers that are never asked again cost more than it saved (a Map insertion, and the
 * collector moving each answer and its key's log line, ≈ 25 % of an import worker's time).
 */
export class Memo<V, K extends string | number = string> {
  private readonly values = new Map<K, V>();
  // The last key asked and its answer: values come in runs (a page and its assets share the
  // User-Agent, the IP, the referrer), and comparing two strings costs less than hashing one.
  private lastKey: K | undefined;
  private lastValue: V | undefined;
  /** Lookups and hits in the current window; lookups left in a pause. */
  private lookups = 0;
  private hits = 0;
  private paused = 0;

  constructor(private readonly limit: number) {}

  /** The remembered answer for `key`, or `compute(key)` remembered. */
  get(key: K, compute: (key: K) => V): V {
    if (key === this.lastKey) return this.lastValue as V;
    if (this.paused > 0) this.paused--;
    else {
      const known = this.values.get(key);
      if (known !== undefined || this.values.has(key)) {
        this.count(true);
        this.lastKey = key;
        this.lastValue = known;
        return known as V;
      }
      this.count(false);
    }
    const value = compute(key);
    this.set(key, value);
    return value;
  }

  /** The remembered answer for `key`, or undefined (for memos whose answers are never undefined). */
  peek(key: K): V | undefined {
    if (key === this.lastKey) return this.lastValue;
    if (this.paused > 0) {
      this.paused--;
      return undefined;
    }
    const value = this.values.get(key);
    if (value !== undefined) {
      this.lastKey = key;
      this.lastValue = value;
    }
    this.count(value !== undefined);
    return value;
  }

  /** The remembered answer for `key`, or undefined, without counting the lookup (see `has`). */
  find(key: K): V | undefined {
    return this.values.get(key);
  }

  /** True when an answer for `key` is remembered. */
  has(key: K): boolean {
    return this.values.has(key);
  }

  /**
   * Remembers `value` for `key` (a lookup that missed, computed); while the memo is paused, only
   * as the last answer (a run of the same key is still answered).
   */
  set(key: K, value: V): void {
    this.lastKey = key;
    this.lastValue = value;
    if (this.paused > 0) return;
    if (this.values.size >= this.limit) this.values.clear();
    this.values.set(key, value);
  }

  /** Counts a lookup, and pauses the memo at the end of a window with too few hits. */
  private count(hit: boolean): void {
    if (hit) this.hits++;
    if (++this.lookups < MEMO_WINDOW) return;
    const pause = this.hits * MIN_HIT_EVERY < this.lookups;
    this.lookups = 0;
    this.hits = 0;
    if (!pause) return;
    this.paused = MEMO_PAUSE;
    this.values.clear();
  }
}
