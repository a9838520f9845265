/**
 * Wraps a log function so that lines of the same kind (the text before the first `:`, e.g. a
 * code such as `store_unavailable`) are written at most once per `intervalMs`: a full disk or
 * a store away must not write a line per request. The next line of a kind written says how
 * many were held back since the last.
 */
export function limitLog(
  log: (line: string) => void,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (line: string) => void {
  const kinds = new Map<string, { at: number; held: number }>();
  return (line) => {
    const kind = line.split(':', 1)[0] ?? line;
    const t = now();
    const seen = kinds.get(kind);
    if (seen && t - seen.at < intervalMs) {
      seen.held++;
      return;
    }
    if (kinds.size >= 1000) kinds.clear();
    kinds.set(kind, { at: t, held: 0 });
    log(seen && seen.held > 0 ? `${line} (${seen.held} more like it held back)` : line);
  };
}
