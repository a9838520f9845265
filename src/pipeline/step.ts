import type { SiteConfig } from '../config/schema.js';
import type { EventRow, RowType } from '../store/row.js';
import type { PipelineContext, RawEvent } from './event.js';
import type { DropReason } from './result.js';

/**
 * What a step gives back: the row columns it sets, or a drop with its reason; with the DLP
 * finding kinds it made (the runner counts them for every event, memoised or not).
 */
export type StepOutcome =
  | { kind: 'ok'; set: Partial<EventRow>; findings?: readonly string[] }
  | { kind: 'drop'; reason: DropReason; detail?: string; findings?: readonly string[] };

/** What a step sees: the raw values, the site, and the row as the steps before it left it. */
export interface StepInput {
  readonly raw: RawEvent;
  readonly site: SiteConfig;
  readonly row: Readonly<EventRow>;
}

/**
 * A pipeline step: a pure function of the raw fields and row columns it declares (and of the
 * site and the context's lookups), returning the columns it sets. The declaration is what lets
 * the runner memoise a step for equal inputs: `test/pipeline.steps.test.ts` checks that each
 * step reads nothing else.
 */
export interface Step {
  name: string;
  /** The raw fields the step reads. */
  reads: readonly (keyof RawEvent)[];
  /** The row columns, set by earlier steps, it reads. */
  readsRow?: readonly (keyof EventRow)[];
  /** Row types the step has nothing to do with (a DNS query has no page, referrer or User-Agent). */
  skip?: readonly RowType[];
  /** False when its inputs nearly never repeat (a time, a visitor hash): a memo would only cost. */
  memo?: boolean;
  run(input: StepInput, ctx: PipelineContext): StepOutcome | Promise<StepOutcome>;
}

/** Go on, with these columns set. */
export function set(columns: Partial<EventRow>, findings?: readonly string[]): StepOutcome {
  return findings && findings.length > 0
    ? { kind: 'ok', set: columns, findings }
    : { kind: 'ok', set: columns };
}

/** Stop here with a reason from the closed list. */
export function drop(reason: DropReason, detail?: string, findings?: readonly string[]): StepOutcome {
  const outcome: StepOutcome =
    detail === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, detail };
  if (findings && findings.length > 0) outcome.findings = findings;
  return outcome;
}

/** The outcome of a step that sets nothing. */
export const NOTHING: StepOutcome = Object.freeze({ kind: 'ok', set: Object.freeze({}) });
