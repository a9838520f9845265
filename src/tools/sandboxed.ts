import type { EventRow } from '../store/row.js';
import { countRefusedBrowser, optionalClientFields, type BrowserActions } from './client.js';
import type { PrivacyView } from './client-view.js';
import type { ToolInstance } from './instance.js';
import type { DispatchContext } from './manager.js';
import type { SandboxFault } from './sandbox/protocol.js';

/** Counts a sandboxed component's fault by kind and reports it (never the event's values). */
export function countFault(
  instance: ToolInstance,
  fault: SandboxFault,
  warn: (line: string) => void,
  eventId?: string,
): void {
  if (fault.kind === 'timeout') instance.stats.timeouts++;
  else if (fault.kind === 'permission') instance.stats.permissionDenied++;
  else instance.stats.errors++;
  warn(
    `tool ${instance.name}: ${fault.message}${eventId ? ` (event ${eventId}; other tools unaffected)` : ' (outside an event)'}`,
  );
}

/**
 * Runs one event through a sandboxed component: its listeners run in the component's thread on
 * the privacy view (plain data), its fetches come back through the gateway's egress guard into
 * `context.deliveries`, and what it asks of the browser joins `actions`.
 */
export async function dispatchSandboxed(
  instance: ToolInstance,
  type: string,
  row: EventRow,
  view: PrivacyView,
  context: DispatchContext,
  actions: BrowserActions,
  warn: (line: string) => void,
): Promise<void> {
  const sandbox = instance.sandbox!;
  const id = sandbox.nextId();
  instance.sandboxContexts.set(id, context);
  const answer = sandbox.dispatch(
    id,
    type,
    row.name ?? undefined,
    { ...view.payload, __eventId: row.id },
    {
      url: view.url.href,
      ip: view.ip,
      userAgent: view.userAgent,
      language: view.language,
      referer: view.referer,
      ...(view.title !== undefined ? { title: view.title } : {}),
      timestamp: view.timestamp,
      ...optionalClientFields(view),
      clientId: view.clientId,
      visitor: row.visitorHash ?? 'anonymous',
      browserRequests: instance.policy.browserRequests,
    },
  );
  if (!answer) return;
  try {
    const { effects, faults } = await answer;
    for (const fault of faults) countFault(instance, fault, warn, row.id);
    for (const request of effects.fetch) actions.fetch.push(request);
    actions.execute.push(...effects.execute);
    if (effects.returned) actions.return[instance.tool.id] = effects.returned.value;
    if (effects.refusedBrowserRequests > 0)
      countRefusedBrowser(instance, effects.refusedBrowserRequests, 'client.fetch/execute', warn);
  } finally {
    instance.sandboxContexts.delete(id);
  }
}
