import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Niceness of an import's worker threads. They yield to the importing thread, to the store's
 * insert (the import's one serial stage: when it waits for CPU, the workers soon wait for it) and
 * to a gateway serving on the same machine; alone, they still get every idle core.
 */
export const WORKER_NICENESS = 10;

/**
 * Lowers the calling thread's scheduling priority to `niceness`. Linux gives each thread its own
 * niceness, set through the thread's id (read from /proc/thread-self); elsewhere, or when refused,
 * nothing changes and false is returned — the import works the same, without yielding.
 */
export function lowerThreadPriority(niceness: number): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return false;
    setPriority(tid, niceness);
    return true;
  } catch {
    return false;
  }
}
