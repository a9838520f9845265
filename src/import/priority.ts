/**
 * Niceness of an import's worker threads. They yield to the importing thread, to the store's
 * insert (the import's one serial stage: when it waits for CPU, the workers soon wait for it) and
 * to a gateway serving on the same machine; alone, they still get every idle core.
 */
export const WORKER_NICENESS = 10;
