/**
 * How the gateway's Node is started in production: the options `docs/deploy.md`'s systemd unit
 * gives it (a test holds the page to them) and `bench:collect` starts its gateway with (without
 * tools; with tools, `GATEWAY_TOOLS_NODE_FLAGS`).
 *
 * - `--max-semi-space-size=4`: V8's young generation in two 4 MB halves instead of growing to
 *   16 MB ones (which it does during the start already): ≈ 22 MB less resident, idle or under
 *   load. Without tools it costs nothing measurable; with tools at their maximum rate ≈ 15 % more
 *   CPU per event (deliveries outlive more collections): BENCHMARKS.md.
 * - `MALLOC_ARENA_MAX=2`: glibc keeps two malloc arenas rather than one per thread that
 *   allocates (≈ 3 MB less). Both are read when the process starts, hence set by what starts it.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * The options for a gateway whose sites have tools: V8's default young generation (halves grown
 * to 16 MB). Deliveries wait for their batch and outlive several collections of a 4 MB one; the
 * larger one costs ≈ 20 MB and saves ≈ 12 % of the CPU per event (BENCHMARKS.md).
 */
export const GATEWAY_TOOLS_NODE_FLAGS: readonly string[] = [];

/** The environment the gateway's process starts with (see `GATEWAY_NODE_FLAGS`). */
export const GATEWAY_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
