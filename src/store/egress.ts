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
