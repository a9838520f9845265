import { stored, type DeadLetter, type Delivery, type Pending } from './delivery.js';

/** One line of the outbox's journal. */
export type OutboxRecord =
  | { op: 'add'; delivery: Delivery }
  | { op: 'done'; id: string }
  | { op: 'attempt'; id: string; attempts: number }
  | { op: 'dead'; id: string; status: number | null; message: string; at: number }
  | { op: 'forget'; id: string };

/**
 * What the outbox's journal says: the deliveries still pending and the dead letters, rebuilt by
 * replaying its records in order, and written back as the fewest records that say the same.
 */
export class Ledger {
  readonly pending = new Map<string, Pending>();
  readonly dead = new Map<string, DeadLetter>();

  /**
   * When the oldest pending delivery was made (ms since the epoch), or null with none pending; a
   * dead letter sent again counts from when it was first made.
   */
  oldestPendingAt(): number | null {
    let oldest: number | null = null;
    for (const { createdAt } of this.pending.values())
      if (oldest === null || createdAt < oldest) oldest = createdAt;
    return oldest;
  }

  /** Applies one record; `ready` is told of a delivery seen for the first time. */
  apply(record: OutboxRecord, ready: (delivery: Pending) => void): void {
    switch (record.op) {
      case 'add':
        if (!this.dead.has(record.delivery.id)) {
          const known = this.pending.has(record.delivery.id);
          const delivery: Pending = { ...record.delivery, nextAt: 0 };
          this.pending.set(record.delivery.id, delivery);
          if (!known) ready(delivery);
        }
        break;
      case 'done':
        this.pending.delete(record.id);
        break;
      case 'attempt': {
        const delivery = this.pending.get(record.id);
        if (delivery) delivery.attempts = record.attempts;
        break;
      }
      case 'dead': {
        const delivery = this.pending.get(record.id);
        if (delivery) {
          this.pending.delete(record.id);
          this.dead.set(record.id, {
            delivery: stored(delivery),
            status: record.status,
            message: record.message,
            at: record.at,
          });
        }
        break;
      }
      case 'forget':
        this.dead.delete(record.id);
        break;
    }
  }

  /** The records that rebuild what is pending and dead now. */
  liveRecords(): OutboxRecord[] {
    const records: OutboxRecord[] = [];
    for (const pending of this.pending.values()) records.push({ op: 'add', delivery: stored(pending) });
    for (const letter of this.dead.values()) {
      records.push({ op: 'add', delivery: letter.delivery });
      records.push({
        op: 'dead',
        id: letter.delivery.id,
        status: letter.status,
        message: letter.message,
        at: letter.at,
      });
    }
    return records;
  }
}
