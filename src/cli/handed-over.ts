/** Commands a running gateway runs on behalf of `balise` (they read or write its store or outbox). */
export const HANDED_OVER: ReadonlySet<string> = new Set([
  'import',
  'query',
  'detect',
  'report',
  'egress',
  'outbox',
  'audit',
  'store',
]);
