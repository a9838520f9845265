import { wellFormedJson } from './json-text.js';

/**
 * What the store keeps of each request a tool sent (or that was stopped): defined here, by the
 * layer that stores it; the tools' outbox produces it.
 */
/** One line of the egress log: what left (or was stopped), never the body itself. */
export interface EgressRecord {
  ts: number;
  site: string;
  tool: string;
  host: string;
  path: string;
  bytes: number;
  sha256: string;
  policy: string;
  outcome: 'sent' | 'retry' | 'dead' | 'blocked';
  status: number | null;
  reason: string | null;
  /** The (first) delivery the request carried. */
  deliveryId: string;
  /** How many deliveries the request carried (a batch carries several). */
  deliveries: number;
  /**
   * The names of the fields the request carried — query parameter names and the keys of its
   * JSON or form body, sorted, at most 40 — never their values (evidence for `balise audit`).
   */
  fields?: string | null;
}

/**
 * One egress-log record as the JSON both stores read (the table's column names, the time as whole
 * epoch milliseconds, a lone surrogate as U+FFFD).
 */
export function egressLine(r: EgressRecord): string {
  return wellFormedJson({
    ts: Math.trunc(r.ts),
    site: r.site,
    tool: r.tool,
    host: r.host,
    path: r.path,
    bytes: r.bytes,
    sha256: r.sha256,
    policy: r.policy,
    outcome: r.outcome,
    status: r.status,
    reason: r.reason,
    delivery_id: r.deliveryId,
    deliveries: r.deliveries,
    fields: r.fields ?? null,
  });
}
