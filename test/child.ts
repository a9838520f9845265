import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';

// Children still running after a test file (a test that failed before stopping its gateway) are
// killed then, so that no gateway outlives the run.
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `balise serve` as a child process and resolves with its base URL once it listens.
 * `openFiles` lowers the child's file-descriptor limit (ulimit -n), as on a small server; `args`
 * replaces Node's arguments (`dist/cli/main.js serve --config FILE`, Node options first) and
 * `env` is added to the child's environment.
 */
export function startChild(
  configPath: string,
  options: { openFiles?: number; args?: string[]; env?: Record<string, string> } = {},
): Promise<{ child: ChildProcess; url: string }> {
  const args = options.args ?? ['dist/cli/main.js', 'serve', '--config', configPath];
  const spawnOptions = {
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  };
  const child =
    options.openFiles === undefined
      ? spawn(process.execPath, args, spawnOptions)
      : spawn(
          'sh',
          ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, ...args],
          spawnOptions,
        );
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
  });
}

/** Posts track events `{n}` from `workers` loops until `stopped()`; returns the acknowledged numbers. */
export async function loadUntil(
  url: string,
  workers: number,
  stopped: () => boolean,
  acked = new Set<number>(),
): Promise<Set<number>> {
  let next = 0;
  const worker = async () => {
    while (!stopped()) {
      const n = next++;
      try {
        const response = await fetch(`${url}/balise/e`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({
            eventType: 'track',
            name: 'load',
            location: 'https://www.example.fr/',
            payload: { n },
          }),
        });
        if (response.status === 204) acked.add(n);
      } catch {
        // in flight when the process died: not acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return acked;
}
