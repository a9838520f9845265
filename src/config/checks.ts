import { isIP } from 'node:net';
import { z } from 'zod';
import { zoneRules } from '../zoneinfo.js';

/** Returns true when `value` is an IP address or a CIDR range such as `10.0.0.0/8` or `fd00::/8`. */
export function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Returns true when `zone` is an IANA time zone name (e.g. `Europe/Paris`) the system's zone files
 * (zoneinfo.ts) or else this runtime's `Intl` know.
 */
export function isTimeZone(zone: string): boolean {
  if (zone === 'UTC') return true;
  if (!zone.includes('/') || /^(posix|right)\//.test(zone)) return false;
  if (zoneRules(zone)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A lower-case host name without scheme, port or path. */
export const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    'must be a lower-case host name without scheme, port or path, e.g. www.example.fr',
  );
