import { newEventId } from '../store/ids.js';
import type { SiteConfig } from '../config/schema.js';
import { blankRow, type EventRow } from '../store/row.js';
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

function emptyRow(raw: RawEvent, site: SiteConfig, node: string, id: string | undefined): EventRow {
  return blankRow({
    // A given id (imports: derived from the line) is kept; otherwise a new UUIDv7.
    id: id ?? newEventId(),
    ts: raw.receivedAt,
    site: site.host,
    type: raw.type,
    source: raw.source,
    node,
  });
}

/** The outcome of a pipeline run: the stored row, or the drop with the step that decided it. */
export type PipelineResult = StepResult<EventRow> & { step?: string };

function finish(
  steps: readonly NamedStep[],
  from: number,
  event: WorkingEvent,
  ctx: PipelineContext,
): PipelineResult | Promise<PipelineResult> {
  for (let i = from; i < steps.length; i++) {
    const step = steps[i]!;
    const result = step.run(event, ctx);
    if (result instanceof Promise) {
      return result.then((settled) =>
        settled.kind === 'drop' ? { ...settled, step: step.name } : finish(steps, i + 1, settled.value, ctx),
      );
    }
    if (result.kind === 'drop') return { ...result, step: step.name };
    event = result.value;
  }
  return { kind: 'ok', value: event.row };
}

/**
 * Runs `steps` in order over one event. The event id is made here, once, at acceptance.
 * Stays synchronous while every step is (the hot path); becomes a promise only when a step
 * has to wait (e.g. the first salt of a new day).
 */
export function runPipeline(
  steps: readonly NamedStep[],
  raw: RawEvent,
  site: SiteConfig,
  ctx: PipelineContext,
  id?: string,
): PipelineResult | Promise<PipelineResult> {
  const row = emptyRow(raw, site, ctx.node, id);
  return finish(steps, 0, { raw, site, row }, ctx);
}
