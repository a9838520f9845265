/** One tool's window and its requests in flight. */
export interface WindowEntry {
  tool: string;
  size: number;
  sending: number;
}

/**
 * How many requests each tool may have in flight. A tool starts at `floor` (`outbox.concurrency`);
 * while requests wait behind its window and its vendor answers, each answer opens the window by
 * one (it doubles per round trip) up to `ceiling` (`outbox.maxConcurrency`); a request the
 * vendor refused for now or did not answer (429, 5xx, 408, a timeout, a network error) halves it,
 * never below `floor`. A far vendor (every request a round trip of tens of milliseconds) then
 * keeps pace with the traffic — at most window ÷ round trip requests per second — without more
 * requests in flight than a vendor that keeps up needs, and one that struggles gets fewer.
 */
export class SendWindows {
  private readonly sizes = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly floor: number,
    private readonly ceiling: number,
  ) {}

  /** The window of `tool` now. */
  size(tool: string): number {
    return this.sizes.get(tool) ?? this.floor;
  }

  /** Requests of `tool` sent and not yet answered. */
  sending(tool: string): number {
    return this.inFlight.get(tool) ?? 0;
  }

  /** True when `tool` may send one more request now. */
  open(tool: string): boolean {
    return this.sending(tool) < this.size(tool);
  }

  /** A request of `tool` leaves. */
  started(tool: string): void {
    this.inFlight.set(tool, this.sending(tool) + 1);
  }

  /** A request of `tool` is over, whatever its outcome. */
  ended(tool: string): void {
    this.inFlight.set(tool, Math.max(0, this.sending(tool) - 1));
  }

  /** The vendor of `tool` answered a request; `waiting`: others wait in its queue. */
  answered(tool: string, waiting: boolean): void {
    const size = this.size(tool);
    if (waiting && size < this.ceiling) this.sizes.set(tool, size + 1);
  }

  /** The vendor of `tool` refused a request for now, or did not answer it. */
  failed(tool: string): void {
    this.sizes.set(tool, Math.max(this.floor, Math.floor(this.size(tool) / 2)));
  }

  /** Every tool's window and requests in flight (`/metrics`). */
  entries(): WindowEntry[] {
    const tools = new Set([...this.sizes.keys(), ...this.inFlight.keys()]);
    return [...tools].map((tool) => ({ tool, size: this.size(tool), sending: this.sending(tool) }));
  }
}
