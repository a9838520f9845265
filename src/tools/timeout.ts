/** A component hook (setup, listener, route) that ran past its time limit. */
export class HookTimeout extends Error {
  constructor(ms: number) {
    super(`hook ran longer than ${ms} ms`);
  }
}

/** Runs `work` (sync or async); rejects with HookTimeout after `ms`, and always clears its timer. */
export function withTimeout<T>(work: () => T | Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new HookTimeout(ms)), ms);
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          clearTimeout(timer);
          resolvePromise(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
  });
}
