import { ok, type StepResult } from '../result.js';
import type { PipelineContext, WorkingEvent } from '../event.js';

/** Sets the day's visitor hash: keyed hash of (IP, UA, site) under the current salt. */
export function putVisitorHash(
  event: WorkingEvent,
  ctx: PipelineContext,
): StepResult<WorkingEvent> | Promise<StepResult<WorkingEvent>> {
  const hash = ctx.visitorHash(event.site, event.raw.ip, event.raw.userAgent, event.row.ts);
  if (typeof hash === 'string') {
    event.row.visitorHash = hash;
    return ok(event);
  }
  return hash.then((value) => {
    event.row.visitorHash = value;
    return ok(event);
  });
}
