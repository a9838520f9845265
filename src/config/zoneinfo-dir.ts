/**
 * The folder of the system's zone files (src/zoneinfo.ts): `TZDIR` when set (the variable the C
 * library reads too), else `/usr/share/zoneinfo` (Debian's `tzdata`, and most systems').
 */
export function zoneinfoDir(): string {
  return process.env.TZDIR || '/usr/share/zoneinfo';
}
