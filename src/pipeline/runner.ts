import { uuidv7 } from 'uuidv7';
import type { SiteConfig } from '../config/schema.js';
import type { EventRow } from '../store/row.js';
import type { PipelineContext, RawEvent, WorkingEvent } from './event.js';
import type { StepResult } from './result.js';

/** A pipeline step: one typed value to the next, or a typed drop. Side effects live at the edges. */
export type Step = (
  event: WorkingEvent,
  ctx: PipelineContext,
) => StepResult<WorkingEvent> | Promise<StepResult<WorkingEvent>>;

/** A named step, so drops and timings can say where they happened. */
export interface NamedStep {
  name: string;
  run: Step;
}

function emptyRow(raw: RawEvent, site: SiteConfig, node: string): EventRow {
  return {
    id: uuidv7(),
    ts: raw.receivedAt,
    site: site.host,
    type: raw.type,
    name: null,
    path: null,
    title: null,
    referrerHost: null,
    referrerClass: null,
    country: null,
    region: null,
    asn: null,
    deviceType: null,
    browser: null,
    os: null,
    isBot: false,
    visitorHash: null,
    sessionHash: null,
    node,
    status: null,
    bytes: null,
    source: raw.source,
    props: null,
  };
}

/**
 * Runs `steps` in order over one event. The event id is made here, once, at acceptance.
 * Returns the stored row, or the drop with the step that decided it.
 */
export async function runPipeline(
  steps: readonly NamedStep[],
  raw: RawEvent,
  site: SiteConfig,
  ctx: PipelineContext,
  id?: string,
): Promise<StepResult<EventRow> & { step?: string }> {
  const row = emptyRow(raw, site, ctx.node);
  if (id !== undefined) row.id = id;
  let event: WorkingEvent = { raw, site, row };
  for (const step of steps) {
    const maybe = step.run(event, ctx);
    const result = maybe instanceof Promise ? await maybe : maybe;
    if (result.kind === 'drop') return { ...result, step: step.name };
    event = result.value;
  }
  return { kind: 'ok', value: event.row };
}
