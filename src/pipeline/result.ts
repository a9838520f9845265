/**
 * Why an event was not kept: a closed list, counted per site and reason (never with the event).
 * Only what a step decides is here: rate limits and overload are refused at the door (429/503)
 * and duplicates are absorbed by the store's idempotent insert, so neither is a drop.
 */
export const DROP_REASONS = ['invalid', 'dlp_blocked'] as const;

/** One of the closed list of drop reasons. */
export type DropReason = (typeof DROP_REASONS)[number];
