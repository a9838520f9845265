import { ok, type StepResult } from '../result.js';
import type { WorkingEvent } from '../event.js';

/** How far the client clock is believed: events may be up to an hour old (queued), never in the future. */
export const CLOCK_WINDOW = { pastMs: 60 * 60 * 1000, futureMs: 60 * 1000 } as const;

/** Sets the row time from the client clock, clamped to a window around the server's receive time. */
export function clampTimestamp(event: WorkingEvent): StepResult<WorkingEvent> {
  const { clientTimestamp, receivedAt, source } = event.raw;
  if (source === 'browser' && clientTimestamp !== null && Number.isFinite(clientTimestamp)) {
    const min = receivedAt - CLOCK_WINDOW.pastMs;
    const max = receivedAt + CLOCK_WINDOW.futureMs;
    event.row.ts = Math.min(max, Math.max(min, Math.trunc(clientTimestamp)));
  } else {
    event.row.ts = clientTimestamp ?? receivedAt;
  }
  return ok(event);
}
