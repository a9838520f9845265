/** Why an event was not kept: a closed list, counted per site and reason (never with the event). */
export const DROP_REASONS = [
  'invalid',
  'bot',
  'consent_denied',
  'dlp_blocked',
  'rate_limited',
  'duplicate',
] as const;

/** One of the closed list of drop reasons. */
export type DropReason = (typeof DROP_REASONS)[number];

/** What a pipeline step returns: go on with the (possibly new) value, or stop with a reason. */
export type StepResult<T> = { kind: 'ok'; value: T } | { kind: 'drop'; reason: DropReason; detail?: string };

/** Continue with `value`. */
export const ok = <T>(value: T): StepResult<T> => ({ kind: 'ok', value });

/** Stop here with a reason from the closed list. */
export const drop = <T>(reason: DropReason, detail?: string): StepResult<T> =>
  detail === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, detail };
