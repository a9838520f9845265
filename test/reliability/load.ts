import type { ChildProcess } from 'node:child_process';

// Event numbers are unique across every loop of a test file.
let nextNumber = 0;

/** Clients posting numbered track events to a gateway until stopped; what each answer was. */
export interface PostLoop {
  /** Event numbers answered 2xx. */
  acked: Set<number>;
  /** Answers by HTTP status (0: no answer, the connection failed). */
  statuses: Map<number, number>;
  /** 429 and 503 answers that lacked a Retry-After header. */
  retryAfterMissing: number;
  /** Resolves when `done()` holds (checked every 50 ms), or rejects after `timeoutMs`. */
  until(done: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops the clients and waits for their last requests. */
  stop(): Promise<void>;
}

/**
 * Starts `workers` clients, each posting one track event `{n}` at a time to `{url}/balise/e`.
 * `extra` is merged into every event (e.g. a long title); `wrap` makes the body of the event
 * (e.g. a batch that carries it); each client waits `pauseMs` between requests (a steady trickle).
 */
export function postLoop(
  url: string,
  workers: number,
  extra: Record<string, unknown> = {},
  wrap: (event: Record<string, unknown>) => unknown = (event) => event,
  pauseMs = 0,
): PostLoop {
  let stopped = false;
  const loop: PostLoop = {
    acked: new Set(),
    statuses: new Map(),
    retryAfterMissing: 0,
    async until(done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline)
          throw new Error(
            `condition not met within ${timeoutMs} ms (statuses ${JSON.stringify([...loop.statuses])})`,
          );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
  const worker = async () => {
    while (!stopped) {
      const n = nextNumber++;
      let status = 0;
      try {
        const response = await fetch(`${url}/balise/e`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify(
            wrap({
              eventType: 'track',
              name: 'load',
              location: 'https://www.example.fr/',
              ...extra,
              payload: { n },
            }),
          ),
        });
        await response.arrayBuffer();
        status = response.status;
        if (status >= 200 && status < 300) loop.acked.add(n);
        if ((status === 429 || status === 503) && !response.headers.get('retry-after'))
          loop.retryAfterMissing++;
        if (status === 503 || status === 429) await new Promise((resolve) => setTimeout(resolve, 5));
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      } catch {
        // no answer (a killed process): not acknowledged
      }
      loop.statuses.set(status, (loop.statuses.get(status) ?? 0) + 1);
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker)).then(() => undefined);
  return loop;
}

/** How many times each event number `{n}` is stored. */
export function countStored(rows: readonly Record<string, unknown>[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const row of rows) {
    if (typeof row.props !== 'string') continue;
    const n = (JSON.parse(row.props) as { n?: number } | null)?.n;
    if (typeof n === 'number') counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

/** Sends SIGTERM and resolves with the exit code. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}
