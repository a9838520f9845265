/**
 * The environment of a child process of this one: `defaults` under this process's environment
 * (a variable the user set keeps its value). With `useAllocatorDefaults`, the one place outside
 * config loading that touches the environment, so that what a process gets is decided here.
 */
export function childEnv(defaults: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { ...defaults, ...process.env };
}

/**
 * DuckDB's allocator (jemalloc, which reads this variable when DuckDB first allocates) hands the
 * pages DuckDB frees back to the system at once, instead of keeping them 10 s for reuse: each
 * spool segment's insert and each checkpoint otherwise left its peak resident. The gateway under
 * load: ≈ 30 MB less resident (BENCHMARKS.md); an import: ≈ 55 MB less at its peak, at the same speed.
 */
export const DUCKDB_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:0,muzzy_decay_ms:0',
};

/**
 * Gives `env` (this process's, by default) DuckDB's allocator settings, a variable the user set
 * keeping its value; it must run before DuckDB is first used (the CLI does it before any command).
 */
export function useAllocatorDefaults(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(DUCKDB_ALLOCATOR_ENV)) env[name] ??= value;
}
