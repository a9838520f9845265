import { IMPORT_ALLOCATOR_ENV } from '../config/child-env.js';

/**
 * How an import's Node runs, set when it starts (V8 and DuckDB's allocator read them only then).
 * The `balise` command (bin/balise) starts `balise import` with them; run another way, the CLI
 * starts a second Node with them (src/cli/main.ts). test/launcher.test.ts holds the two alike.
 * - V8's collector on one thread: the import's worker threads keep every core busy, and the
 *   collector's helper threads then only add CPU (≈ 8 % faster on a million lines);
 * - young generations of 2 MB semi-spaces (V8 grows them to 16 MB) in the importing thread and
 *   each worker: ≈ 60 MB less at the peak on a million lines, at the same speed
 *   (`--optimize-for-size` took 30 MB more off but cost ≈ 8 % of the speed);
 * - an old generation let grow by 20 % of what a full collection kept before the next one (V8
 *   grows it up to 4×): a worker keeps ≈ 15 MB, but the memo entries it replaces get promoted
 *   first, and its old space reached 40 MB between collections (≈ 25 MB less at the peak).
 * BENCHMARKS.md has the figures.
 */
export const IMPORT_FLAGS: readonly string[] = [
  '--single-threaded-gc',
  '--max-semi-space-size=2',
  '--heap-growing-percent=20',
];

/**
 * The environment of an import's Node (a variable the user set keeps its value):
 * - DuckDB's allocator (jemalloc) with one arena, keeping freed pages 5 ms (`IMPORT_ALLOCATOR_ENV`;
 *   other commands hand them back at once, `useAllocatorDefaults`): ≈ 15–20 % less time;
 * - one malloc arena (glibc otherwise makes one per thread that allocates, up to 8 per core,
 *   each keeping its freed memory: ≈ 30 MB less; V8's heaps and DuckDB's memory are not malloc's,
 *   so sharing one arena costs no speed).
 */
export const IMPORT_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  ...IMPORT_ALLOCATOR_ENV,
};
