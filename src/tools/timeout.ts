/** A component hook (setup, listener, route) that ran past its time limit. */
export class HookTimeout extends Error {
  constructor(ms: number) {
    super(`hook ran longer than ${ms} ms`);
  }
}

interface Deadline {
  at: number;
  reject: (error: Error) => void;
  settled: boolean;
}

/**
 * The deadlines of running hooks that share one time limit — hence in time order — with one
 * timer for the earliest unsettled one. Hooks run for every event and tool; a timer each (made,
 * then cleared) cost more than the hooks themselves.
 */
class Deadlines {
  private readonly list: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ms: number) {}

  add(reject: (error: Error) => void): Deadline {
    const deadline: Deadline = { at: Date.now() + this.ms, reject, settled: false };
    this.list.push(deadline);
    if (this.timer === null) this.arm();
    return deadline;
  }

  private arm(): void {
    while (this.head < this.list.length && this.list[this.head]!.settled) this.head++;
    if (this.head === this.list.length) {
      this.list.length = 0;
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.list.splice(0, this.head);
      this.head = 0;
    }
    this.timer = setTimeout(() => this.sweep(), Math.max(0, this.list[this.head]!.at - Date.now()));
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = null;
    const now = Date.now();
    for (; this.head < this.list.length; this.head++) {
      const deadline = this.list[this.head]!;
      if (deadline.settled) continue;
      if (deadline.at > now) break;
      deadline.settled = true;
      deadline.reject(new HookTimeout(this.ms));
    }
    this.arm();
  }
}

const byLimit = new Map<number, Deadlines>();

/** Runs `work` (sync or async); rejects with HookTimeout after `ms`. */
export function withTimeout<T>(work: () => T | Promise<T>, ms: number): Promise<T> {
  let deadlines = byLimit.get(ms);
  if (!deadlines) byLimit.set(ms, (deadlines = new Deadlines(ms)));
  const queue = deadlines;
  return new Promise<T>((resolvePromise, reject) => {
    const deadline = queue.add(reject);
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          deadline.settled = true;
          resolvePromise(value);
        },
        (error: unknown) => {
          deadline.settled = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
  });
}
