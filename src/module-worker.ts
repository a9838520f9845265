import { Worker } from 'node:worker_threads';

/**
 * A worker thread running a module beside the caller (`callerUrl`: its `import.meta.url`): the
 * built JavaScript `built` when the caller runs built, or — when it runs as TypeScript (tests,
 * benches) — the TypeScript `source` itself, loaded through tsx's API.
 */
export function moduleWorker(callerUrl: string, built: string, source: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(built, callerUrl), { workerData });
  const entry = new URL(source, callerUrl).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
