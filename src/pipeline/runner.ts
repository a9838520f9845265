import type { SiteConfig } from '../config/schema.js';
import { Memo } from '../memo.js';
import { newEventId } from '../store/ids.js';
import { emptyRow, type EventRow, type RowType } from '../store/row.js';
import type { PipelineContext, RawEvent } from './event.js';
import type { DropReason } from './result.js';
import type { Step, StepInput, StepOutcome } from './step.js';

/** The outcome of a pipeline run: the stored row, or the drop with the step that decided it. */
export type PipelineResult =
  { kind: 'ok'; value: EventRow } | { kind: 'drop'; reason: DropReason; detail?: string; step: string };

/** How a pipeline runs. */
export interface PipelineOptions {
  /**
   * Answers kept per memoised step and site (0: none). A step's answer is reused for the next
   * event with the same values of what it declares it reads: a log repeats its paths,
   * referrers, User-Agents and IPs, so an import runs each step about once per distinct value.
   * In memory only, cleared when full.
   */
  memo?: number;
}

/** The row an event starts as: its identity, every other field empty. */
function rowOf(raw: RawEvent, site: SiteConfig, ctx: PipelineContext, id: string | undefined): EventRow {
  return emptyRow({
    // A given id (imports: derived from the line) is kept; otherwise a new UUIDv7.
    id: id ?? newEventId(),
    ts: raw.receivedAt,
    site: site.host,
    type: raw.type,
    node: raw.node !== undefined ? raw.node : ctx.node,
    status: raw.status ?? null,
    bytes: raw.bytes ?? null,
    source: raw.source,
  });
}

/** A value's part of a memo key: length-prefixed, so no two lists of values share a key. */
function keyPart(value: unknown): string {
  if (value === null || value === undefined) return '-';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `${text.length}:${text}`;
}

/**
 * The answers of one memoised step for one site. Most events give a step one input that is not
 * empty (an import's path, referrer, User-Agent or IP): then that string is the key, as it is,
 * in the memo of its input; a key made of several values is a cons string that each lookup
 * must flatten and hash again.
 */
class StepMemo {
  private readonly single: Memo<StepOutcome>[];
  private readonly full: Memo<StepOutcome>;

  constructor(
    private readonly step: Step,
    size: number,
  ) {
    const inputs = step.reads.length + (step.readsRow?.length ?? 0);
    this.single = Array.from({ length: inputs }, () => new Memo<StepOutcome>(size));
    this.full = new Memo<StepOutcome>(size);
  }

  /** The step's answer for `input`, run once per distinct value of what it reads. */
  outcome(input: StepInput, ctx: PipelineContext): StepOutcome | Promise<StepOutcome> {
    const { step } = this;
    const { raw, row } = input;
    const reads = step.reads;
    const readsRow = step.readsRow ?? NONE;
    let only = -1;
    let count = 0;
    let value: unknown;
    for (let i = 0; i < reads.length; i++) {
      const v = raw[reads[i]!];
      if (v === null || v === undefined) continue;
      count++;
      only = i;
      value = v;
    }
    for (let i = 0; i < readsRow.length; i++) {
      const v = row[readsRow[i]!];
      if (v === null || v === undefined) continue;
      count++;
      only = reads.length + i;
      value = v;
    }
    let memo: Memo<StepOutcome>;
    let key: string;
    if (count === 1 && typeof value === 'string') {
      memo = this.single[only]!;
      key = value;
    } else {
      memo = this.full;
      key = '';
      for (const field of reads) key += keyPart(raw[field]);
      for (const column of readsRow) key += keyPart(row[column]);
    }
    const known = memo.peek(key);
    if (known !== undefined) return known;
    const outcome = step.run(input, ctx);
    // Only answers at hand are kept: a step that waits is one whose inputs do not repeat.
    if (!(outcome instanceof Promise)) memo.set(key, outcome);
    return outcome;
  }
}

const NONE: readonly never[] = [];

/**
 * The one pipeline of live events and imports: runs its steps in order over an event and
 * builds the row from the columns each step sets. Stays synchronous while every step is (the
 * hot path); becomes a promise only when a step has to wait (e.g. the first salt of a new day).
 */
export class Pipeline {
  /** The indices of the steps that apply to each row type (computed at the first row of it). */
  private readonly byType = new Map<RowType, number[]>();
  /** Per step: its answers per site, when the step is memoised. */
  private readonly memos: (Map<SiteConfig, StepMemo> | undefined)[];

  constructor(
    readonly steps: readonly Step[],
    private readonly options: PipelineOptions = {},
  ) {
    const size = options.memo ?? 0;
    this.memos = steps.map((step) => (size > 0 && step.memo !== false ? new Map() : undefined));
  }

  /** Runs every step over `raw` for `site`; `id` is kept as the row's id (imports), else one is made. */
  run(
    raw: RawEvent,
    site: SiteConfig,
    ctx: PipelineContext,
    id?: string,
  ): PipelineResult | Promise<PipelineResult> {
    const row = rowOf(raw, site, ctx, id);
    return this.from(0, { raw, site, row }, row, ctx);
  }

  private from(
    first: number,
    input: StepInput,
    row: EventRow,
    ctx: PipelineContext,
  ): PipelineResult | Promise<PipelineResult> {
    const order = this.order(input.raw.type);
    for (let n = first; n < order.length; n++) {
      const i = order[n]!;
      const step = this.steps[i]!;
      const outcome = this.outcome(i, step, input, ctx);
      if (outcome instanceof Promise) {
        return outcome.then((settled) => {
          const stop = apply(settled, step, row, input.site, ctx);
          return stop ?? this.from(n + 1, input, row, ctx);
        });
      }
      const stop = apply(outcome, step, row, input.site, ctx);
      if (stop) return stop;
    }
    return { kind: 'ok', value: row };
  }

  private order(type: RowType): number[] {
    let order = this.byType.get(type);
    if (!order) {
      order = [];
      for (let i = 0; i < this.steps.length; i++) if (!this.steps[i]!.skip?.includes(type)) order.push(i);
      this.byType.set(type, order);
    }
    return order;
  }

  private outcome(
    index: number,
    step: Step,
    input: StepInput,
    ctx: PipelineContext,
  ): StepOutcome | Promise<StepOutcome> {
    const perSite = this.memos[index];
    if (!perSite) return step.run(input, ctx);
    let memo = perSite.get(input.site);
    if (!memo) perSite.set(input.site, (memo = new StepMemo(step, this.options.memo!)));
    return memo.outcome(input, ctx);
  }
}

/** Counts the outcome's findings and sets its columns; returns the result when it is a drop. */
function apply(
  outcome: StepOutcome,
  step: Step,
  row: EventRow,
  site: SiteConfig,
  ctx: PipelineContext,
): PipelineResult | undefined {
  if (outcome.findings) for (const kind of outcome.findings) ctx.countFinding(site.host, kind);
  if (outcome.kind === 'drop') {
    return outcome.detail === undefined
      ? { kind: 'drop', reason: outcome.reason, step: step.name }
      : { kind: 'drop', reason: outcome.reason, detail: outcome.detail, step: step.name };
  }
  Object.assign(row, outcome.set);
  return undefined;
}
