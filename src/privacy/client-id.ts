/** The `clientId` switch, per tool (docs/privacy.md). */
export type ClientIdRule = 'keep' | 'hashed' | { constant: string };

/**
 * The client id a tool receives: `hashed` → the day's visitor hash (stable within a day,
 * unlinkable across days and sites); `constant` → the same id for every visitor (counts events
 * only); `keep` → the tool's own id, if the browser sent one (never under cnil-proxy, where
 * vendor cookies are neither read nor set).
 */
export function applyClientIdRule(
  rule: ClientIdRule,
  visitorHash: string,
  vendorId: string | null,
): string | null {
  if (rule === 'hashed') return visitorHash;
  if (rule === 'keep') return vendorId;
  return rule.constant;
}
