// @duckdb/node-api, loaded with `require`. It is CommonJS: imported from ES modules, Node first
// reads each of its ~70 files with its CommonJS export scanner to list their named exports,
// ≈ 70 ms of every command's start (BENCHMARKS.md); `require` reads only what runs.
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;

/** The values of @duckdb/node-api the store uses (its types are imported as types). */
export const { DuckDBInstance, DuckDBBlobValue, DuckDBTimestampValue, listValue, BIGINT, LIST } = api;
/** An open database (the type of `DuckDBInstance.create`'s answer). */
export type DuckDBInstance = DuckDB.DuckDBInstance;
