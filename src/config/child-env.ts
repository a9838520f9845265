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
 * DuckDB's allocator in the Node of `balise import` (set when the CLI starts it, a variable the
 * user set keeping its value): one arena for all of DuckDB's threads, and freed pages kept 5 ms
 * before they go back. A batch's insert frees and allocates the same few megabytes over and over
 * (CSV buffers, vectors, string heaps); handed back at once, each came back as page faults —
 * about a fifth of the import's CPU on a virtual machine whose faults are dear (≈ 1 s of system
 * time per 200,000 lines). Several arenas with any delay each kept their own freed pages (≈ 50 MB
 * more at the peak on a million lines); one arena reuses them, and with DuckDB's bound and the
 * import's chunks made smaller (`STORE_MEMORY_MB`, `CHUNK_BYTES`) the peak stays where it was.
 */
export const IMPORT_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:5,muzzy_decay_ms:0,narenas:1',
};

/**
 * Gives `env` (this process's, by default) DuckDB's allocator settings, a variable the user set
 * keeping its value; it must run before DuckDB is first used (the CLI does it before any command).
 */
export function useAllocatorDefaults(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(DUCKDB_ALLOCATOR_ENV)) env[name] ??= value;
}
