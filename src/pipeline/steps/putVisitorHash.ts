import { ok, type StepResult } from '../result.js';
import type { PipelineContext, WorkingEvent } from '../event.js';

/** Sets the day's visitor hash: keyed hash of (IP, UA, site) under the current salt. */
export async function putVisitorHash(
  event: WorkingEvent,
  ctx: PipelineContext,
): Promise<StepResult<WorkingEvent>> {
  event.row.visitorHash = await ctx.visitorHash(event.site, event.raw.ip, event.raw.userAgent, event.row.ts);
  return ok(event);
}
