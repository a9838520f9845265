// JSON text every store's reader takes back.

// JSON.stringify writes a lone UTF-16 surrogate (a title cut in the middle of an emoji, or a
// `\ud800` escape sent by a client) as a `\udXXX` escape, which DuckDB's and ClickHouse's JSON
// readers refuse. Paired surrogates are written as the characters themselves, so this finds only
// lone ones (and, harmlessly, a literal backslash-u text, which is then serialised again unchanged).
const SURROGATE_ESCAPE = /\\ud[89a-f]/i;

const wellFormed = (_key: string, value: unknown): unknown =>
  typeof value === 'string' ? value.toWellFormed() : value;

/** `value`'s JSON, with every lone surrogate of its strings replaced by U+FFFD. */
export function wellFormedJson(value: unknown): string {
  const text = JSON.stringify(value);
  return SURROGATE_ESCAPE.test(text) ? JSON.stringify(value, wellFormed) : text;
}
