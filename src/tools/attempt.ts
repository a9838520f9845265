import type { EgressRecord } from '../store/egress.js';
import { batchRequest } from './batch.js';
import type { BatchRule, Pending } from './delivery.js';
import { checkAddress, hostOf, type OutgoingRequest } from './egress.js';
import { answerExcerpt, egressBase, egressRecord } from './egress-entry.js';
import type { Transport } from './transport.js';

/** What one attempt to send a group needs. */
export interface AttemptDeps {
  transport: Transport;
  timeoutMs: number;
  log: (record: EgressRecord) => void;
  now: () => number;
  resolve?: ((host: string) => Promise<string[]>) | undefined;
}

/**
 * What became of one attempt: the vendor's answer (its status, or null when none came, and a
 * message), or a refusal before anything left — a batch whose seal threw (its members are then
 * sent alone), a delivery that must be signed as it leaves and cannot be, or an address that is
 * private (both logged here, to be buried).
 */
export type Attempt =
  | { kind: 'answered'; base: ReturnType<typeof egressBase>; status: number | null; message: string }
  | { kind: 'unsealed' }
  | { kind: 'blocked'; reason: string };

/**
 * Sends `group` once (as one request, batched by `rule`, sealed by its tool's rule `sealing`),
 * through the address check and the transport.
 */
export async function attempt(
  group: Pending[],
  rule: BatchRule | undefined,
  sealing: BatchRule | undefined,
  deps: AttemptDeps,
): Promise<Attempt> {
  const first = group[0]!;
  let request: OutgoingRequest;
  try {
    request = batchRequest(group, rule, sealing);
  } catch (error) {
    if (group.length === 1 && first.sealAtSend) {
      // Its component did not sign it: it never leaves unsigned.
      const reason = `not signed (${error instanceof Error ? error.message : String(error)}): not sent`;
      deps.log(egressRecord(egressBase(group, first.request), deps.now(), 'blocked', null, reason));
      return { kind: 'blocked', reason };
    }
    // A seal that throws: the members go alone, as their components wrote them.
    for (const member of group) member.solo = true;
    deps.log({
      ...egressBase(group, first.request),
      ts: deps.now(),
      outcome: 'retry',
      status: null,
      reason: `batch not sealed (${error instanceof Error ? error.message : String(error)}): sent one by one`,
    });
    return { kind: 'unsealed' };
  }
  const url = new URL(request.url);
  // What the body was made of: the batch's parts, or a delivery's parsed body (kept until now).
  const parsed =
    rule && first.part
      ? [first.part.body, ...group.slice(1).map((member) => member.part!.items)]
      : first.json !== undefined
        ? [first.json]
        : undefined;
  const base = egressBase(group, request, url, parsed);
  const blocked = await checkAddress(request.url, first.operatorHosts, deps.resolve);
  if (blocked) {
    deps.log(egressRecord(base, deps.now(), 'blocked', null, blocked));
    return { kind: 'blocked', reason: blocked };
  }
  let status: number | null = null;
  let message = '';
  try {
    const answer = await deps.transport(request, deps.timeoutMs, first.operatorHosts.includes(hostOf(url)));
    status = answer.status;
    message = first.quoteAnswers ? answerExcerpt(answer.body) : '';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPRIVATE') {
      // Refused when connecting: the name now resolves to a private address.
      const reason = (error as Error).message;
      deps.log(egressRecord(base, deps.now(), 'blocked', null, reason));
      return { kind: 'blocked', reason };
    }
    message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return { kind: 'answered', base, status, message };
}
