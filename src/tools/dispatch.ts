import type { SiteConfig } from '../config/schema.js';
import type { EventRow } from '../store/row.js';
import type { BrowserActions } from './client.js';
import { privacyView, type PrivacyView, type ToolInput } from './client-view.js';
import type { DebugTool, DebugTrace } from './debug.js';
import type { ToolInstance } from './instance.js';
import type { DispatchContext } from './manager.js';
import type { Delivery } from './outbox.js';
import { actionPayload, firingsOf, type Firing } from './triggers.js';

/** One event on its way to a site's tools: what the tools' dispatches share. */
export interface EventDispatch {
  site: SiteConfig;
  raw: ToolInput;
  row: EventRow;
  consent: Record<string, boolean> | null;
  /** The type a tool without actions receives (a request is a pageview to tools). */
  type: string;
  /**
   * Privacy views by policy, with the values the gateway made for them (`produced`, see
   * egress.ts): tools with the same policy share one (built-ins whole, other components their
   * own copies of its URL and payload).
   */
  views: Map<string, SharedView>;
  /** Each trigger's answer for this event, shared by the site's tools. */
  fired: Map<string, boolean>;
  deliveries: Delivery[];
  actions: BrowserActions;
  /** Debug mode's account of the event, when the visitor's browser holds the site's debug key. */
  trace: DebugTrace | null;
}

/** A policy's privacy view of the event and the values the gateway made in it. */
export interface SharedView {
  view: PrivacyView;
  produced: ReadonlySet<string>;
}

/** Runs one component's listeners of one type on a view (in the gateway's thread or its sandbox). */
export type RunListeners = (
  instance: ToolInstance,
  type: string,
  view: PrivacyView,
  context: DispatchContext,
) => Promise<void>;

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/** The payload without properties named like a setting (`instance.settingNames`, `__setting_*`). */
function withoutSettings(payload: Record<string, unknown>, instance: ToolInstance): Record<string, unknown> {
  for (const key of Object.keys(payload))
    if (instance.settingNames.has(key) || key.startsWith('__')) {
      delete payload[key];
      instance.stats.overridesDropped++;
    }
  return payload;
}

/**
 * Sends one event to one tool: consent for its purpose, its blocking triggers and actions, the
 * privacy view for its policy (DLP `drop` refuses the event), then its listeners of each fired
 * type; the requests they make join `event.deliveries`.
 */
export async function dispatchToTool(
  instance: ToolInstance,
  event: EventDispatch,
  run: RunListeners,
): Promise<void> {
  const { site, raw, row, type } = event;
  const note: DebugTool | null = event.trace
    ? {
        tool: instance.tool.id,
        component: instance.tool.component,
        outcome: 'nothing sent',
        fired: [],
        requests: [],
      }
    : null;
  if (note) event.trace!.tools.push(note);
  if (instance.tool.purpose && event.consent?.[instance.tool.purpose] !== true) {
    instance.stats.consentDenied++;
    if (note) note.outcome = 'consent denied';
    return;
  }
  const firings: Firing[] =
    instance.tool.actions === undefined && instance.tool.blockingTriggers.length === 0
      ? [{ type, action: null }]
      : firingsOf(instance.tool, instance.triggers, row, raw.props, type, event.fired);
  if (note) {
    note.fired = firings.map((firing) => firing.type);
    if (firings.length === 0)
      note.outcome = [
        ...instance.tool.blockingTriggers,
        ...(instance.tool.actions ?? []).flatMap((action) => action.blockingTriggers),
      ].some((id) => event.fired.get(id))
        ? 'blocked by a trigger'
        : 'no action fired';
  }
  if (instance.stats.disabled !== null) {
    if (note) note.outcome = 'disabled';
    return;
  }
  const listened = firings.filter((firing) => (instance.listeners.get(firing.type)?.length ?? 0) > 0);
  if (listened.length === 0) return;
  let shared = event.views.get(instance.viewKey);
  if (!shared) {
    const made = privacyView(raw, row, site, instance.policy, instance.trackers);
    const produced = new Set([row.id, made.ip, made.userAgent, made.clientId].filter((v) => v !== ''));
    event.views.set(instance.viewKey, (shared = { view: made, produced }));
  }
  const { view: common, produced } = shared;
  // Each tool its own copies (a pageview has no properties: nothing to copy); a built-in only
  // reads the view (the URL as text, the payload copied for its event), so the built-ins of one
  // policy share it whole when there is no payload to strip of settings.
  const view: PrivacyView =
    instance.builtin && isEmpty(common.payload)
      ? common
      : {
          ...common,
          url: instance.builtin ? common.url : new URL(common.url),
          payload: isEmpty(common.payload) ? {} : withoutSettings(structuredClone(common.payload), instance),
        };
  for (const kind of view.findings)
    instance.stats.dlpFindings[kind] = (instance.stats.dlpFindings[kind] ?? 0) + 1;
  if (view.findings.length > 0 && instance.policy.dlp === 'drop') {
    instance.stats.dlpBlocked++;
    if (note) note.outcome = 'dropped by DLP';
    return;
  }
  instance.stats.events++;
  const context: DispatchContext = {
    eventId: row.id,
    produced,
    site,
    deliveries: event.deliveries,
    actions: event.actions,
    counter: 0,
    ...(note ? { trace: note.requests } : {}),
  };
  for (const firing of listened) {
    const seen = firing.action
      ? { ...view, payload: actionPayload(view.payload, common, row, firing.action) }
      : view;
    await run(instance, firing.type, seen, context);
  }
  if (note && note.requests.some((request) => request.blocked === undefined)) note.outcome = 'sent';
}
