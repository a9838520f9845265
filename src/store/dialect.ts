import type { Dialect, SqlParam } from './store.js';

/** The type a bound parameter is read as. */
export type ParamType = 'Int64' | 'Float64' | 'String';

const DUCKDB_TYPES: Record<ParamType, string> = { Int64: 'BIGINT', Float64: 'DOUBLE', String: 'VARCHAR' };

/**
 * Writes one statement for either store: every value a bound parameter (`$n` in DuckDB,
 * `{pn:Type}` in ClickHouse — `Store.query` binds `params[n-1]` to both), and the handful of
 * functions the two engines spell differently. Query builders write their SQL once with it, so
 * both stores answer the same plan.
 */
export class SqlWriter {
  /** The values bound so far, in placeholder order. */
  readonly params: SqlParam[] = [];

  constructor(readonly dialect: Dialect) {}

  /** Binds a value; returns its placeholder, typed. */
  bind(value: SqlParam, type: ParamType): string {
    const n = this.params.push(value);
    return this.dialect === 'duckdb' ? `$${n}::${DUCKDB_TYPES[type]}` : `{p${n}:${type}}`;
  }

  /** Binds each value as text; returns the list for `IN (…)`. */
  list(values: readonly string[]): string {
    return values.map((value) => this.bind(value, 'String')).join(', ');
  }

  /** A timestamp from epoch milliseconds (bound), comparable with `ts`. */
  instant(ms: number): string {
    const value = this.bind(Math.trunc(ms), 'Int64');
    return this.dialect === 'duckdb' ? `epoch_ms(${value})` : `fromUnixTimestamp64Milli(${value}, 'UTC')`;
  }

  /** Epoch milliseconds of a timestamp column. */
  ms(column: string): string {
    return this.dialect === 'duckdb' ? `epoch_ms(${column})` : `toUnixTimestamp64Milli(${column})`;
  }

  /** Rows matching `where` (all rows without it). */
  count(where?: string): string {
    if (this.dialect === 'duckdb') return where ? `count(*) FILTER (WHERE ${where})` : 'count(*)';
    return where ? `countIf(${where})` : 'count()';
  }

  /** The sum of an integer column over rows matching `where`; 0, never null, when none match. */
  sum(column: string, where?: string): string {
    if (this.dialect === 'duckdb')
      return `coalesce(sum(${column})${where ? ` FILTER (WHERE ${where})` : ''}, 0)::BIGINT`;
    return where ? `toInt64(sumIf(${column}, ${where}))` : `toInt64(sum(${column}))`;
  }

  /** Distinct non-null values of a column over rows matching `where`. */
  distinct(column: string, where: string): string {
    return this.dialect === 'duckdb'
      ? `count(DISTINCT ${column}) FILTER (WHERE ${where})`
      : `uniqExactIf(${column}, ${where})`;
  }

  /** A column as text (NULL stays NULL; booleans as true/false). */
  text(column: string): string {
    return this.dialect === 'duckdb' ? `CAST(${column} AS VARCHAR)` : `toString(${column})`;
  }

  /** True when the text column starts with the (placeholder) prefix. */
  startsWith(column: string, prefix: string): string {
    return this.dialect === 'duckdb'
      ? `starts_with(${column}, ${prefix})`
      : `startsWith(${column}, ${prefix})`;
  }

  /** A positive number rounded to two decimals, halves away from zero (as DuckDB's round does). */
  round2(expression: string): string {
    return this.dialect === 'duckdb' ? `round(${expression}, 2)` : `floor((${expression}) * 100 + 0.5) / 100`;
  }

  /** The value of `column` at the row where `by` is least (NULL values of `column` skipped). */
  argMin(column: string, by: string): string {
    return this.dialect === 'duckdb' ? `arg_min(${column}, ${by})` : `argMin(${column}, ${by})`;
  }

  /** The value of `column` at the row where `by` is greatest (NULL values of `column` skipped). */
  argMax(column: string, by: string): string {
    return this.dialect === 'duckdb' ? `arg_max(${column}, ${by})` : `argMax(${column}, ${by})`;
  }

  /** True when the text column matches the (placeholder) RE2 regular expression. */
  matches(column: string, pattern: string): string {
    return this.dialect === 'duckdb'
      ? `regexp_matches(${column}, ${pattern})`
      : `match(${column}, ${pattern})`;
  }

  /** A number at the top-level key (placeholder) of a JSON text column; NULL when absent or not a number. */
  jsonNumber(column: string, key: string): string {
    return this.dialect === 'duckdb'
      ? `TRY_CAST(json_extract_string(${column}, '$.' || ${key}) AS DOUBLE)`
      : `toFloat64OrNull(JSONExtractRaw(${column}, ${key}))`;
  }

  /** A text at the top-level key (placeholder) of a JSON text column; NULL when absent. */
  jsonText(column: string, key: string): string {
    return this.dialect === 'duckdb'
      ? `json_extract_string(${column}, '$.' || ${key})`
      : `nullIf(JSONExtractString(${column}, ${key}), '')`;
  }

  /** Each top-level key of a JSON object text column, one row per key (in a SELECT list). */
  jsonKeys(column: string): string {
    return this.dialect === 'duckdb'
      ? `unnest(json_keys(${column}))`
      : `arrayJoin(JSONExtractKeys(assumeNotNull(${column})))`;
  }

  /** The values of `column` over a group's rows, in the order of `by`, as comma-separated text. */
  orderedText(column: string, by: string): string {
    return this.dialect === 'duckdb'
      ? `string_agg(CAST(${column} AS VARCHAR), ',' ORDER BY ${by})`
      : `arrayStringConcat(arrayMap(x -> toString(x.2), arraySort(x -> x.1, groupArray((${by}, ${column})))), ',')`;
  }

  /** The start of the second holding `column`, as epoch milliseconds. */
  secondMs(column: string): string {
    return this.dialect === 'duckdb'
      ? `epoch_ms(date_trunc('second', ${column}))`
      : `toUnixTimestamp(${column}) * 1000`;
  }
}
