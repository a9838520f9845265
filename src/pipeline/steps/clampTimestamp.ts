import { set, type Step } from '../step.js';

/** How far the client clock is believed: events may be up to an hour old (queued), never in the future. */
export const CLOCK_WINDOW = { pastMs: 60 * 60 * 1000, futureMs: 60 * 1000 } as const;

/** Sets the row time from the client clock, clamped to a window around the server's receive time. */
export const clampTimestamp: Step = {
  name: 'clampTimestamp',
  reads: ['clientTimestamp', 'receivedAt', 'source'],
  memo: false,
  run({ raw }) {
    const { clientTimestamp, receivedAt, source } = raw;
    if (source === 'browser' && clientTimestamp !== null && Number.isFinite(clientTimestamp)) {
      const min = receivedAt - CLOCK_WINDOW.pastMs;
      const max = receivedAt + CLOCK_WINDOW.futureMs;
      return set({ ts: Math.min(max, Math.max(min, Math.trunc(clientTimestamp))) });
    }
    return set({ ts: clientTimestamp ?? receivedAt });
  },
};
