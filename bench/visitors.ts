// The visitors of a bench's load: one public address each (never contacted; the gateway only
// reads it from X-Forwarded-For), so the visitor hash, geolocation and the tools' client ids
// vary as on a real site.

/** The address of visitor `n` (0 ≤ n < 2^24): 81.0.0.0/8, a French operator's range. */
export function visitorAddress(n: number): string {
  return `81.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}
