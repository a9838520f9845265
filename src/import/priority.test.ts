import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { niceness, threadId } from '../../test/thread-niceness.js';
import { WORKER_NICENESS } from './priority.js';

describe('import worker priority', () => {
  it.runIf(process.platform === 'linux')('lowers the calling thread only', async () => {
    const main = niceness(threadId());
    const modules = [
      new URL('./priority.ts', import.meta.url),
      new URL('../thread-priority.ts', import.meta.url),
      new URL('../../test/thread-niceness.ts', import.meta.url),
    ];
    // A thread that lowers itself, reports its id and whether it could, then waits to be ended.
    const code = `
      const { parentPort } = require('node:worker_threads');
      import('tsx/esm/api')
        .then((tsx) => { tsx.register(); return Promise.all(${JSON.stringify(modules.map(String))}.map((m) => import(m))); })
        .then(([{ WORKER_NICENESS }, { lowerThreadPriority }, { threadId }]) => {
          const lowered = lowerThreadPriority(WORKER_NICENESS);
          parentPort.postMessage({ tid: threadId(), lowered });
          setInterval(() => {}, 1000);
        });`;
    const worker = new Worker(code, { eval: true });
    try {
      const { tid, lowered } = await new Promise<{ tid: number; lowered: boolean }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(lowered).toBe(true);
      expect(tid).not.toBe(threadId());
      expect({ worker: niceness(tid), main: niceness(threadId()) }).toEqual({
        worker: WORKER_NICENESS,
        main,
      });
    } finally {
      await worker.terminate();
    }
  });
});
