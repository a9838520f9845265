/**
 * Group commit that waits a little under load. Appends arriving while a group is written join
 * the next group; but on an even stream (1,400 requests a second, one every 0.7 ms) a write and
 * its fsync take about as long as the gap, so nearly every request had a group, and an fsync, of
 * its own: a third of the gateway's CPU at that rate (BENCHMARKS.md). When the next group would
 * start within `busyMs` of the last one's end and the last two were small (fewer than `fullGroup`
 * appends each), it first waits `delayMs` for the requests behind it. On a quiet gateway nothing
 * waits, nor under a load that fills its groups by itself (a wait there only added latency) — nor
 * after a small group that followed a full one: clients that send their next request when the
 * last is answered (browsers, a closed loop of connections) come back in a wave just after a full
 * group, with a few stragglers in the group between; waiting then held every wave a millisecond
 * (a sixth fewer requests a second at 50 connections, BENCHMARKS.md).
 */
export class CommitPacer {
  private lastWritten = -Infinity;
  private lastSize = 0;
  private previousSize = 0;

  constructor(
    private readonly delayMs = 1,
    private readonly busyMs = 2,
    private readonly fullGroup = 4,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Undefined when the group may be written at once; else resolves once it may. */
  wait(): Promise<void> | undefined {
    if (this.lastSize >= this.fullGroup || this.previousSize >= this.fullGroup) return undefined;
    if (this.now() - this.lastWritten > this.busyMs) return undefined;
    return new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }

  /** A group of `size` appends was written (and fsynced), or failed: the next one is timed from now. */
  written(size: number): void {
    this.lastWritten = this.now();
    this.previousSize = this.lastSize;
    this.lastSize = size;
  }
}
