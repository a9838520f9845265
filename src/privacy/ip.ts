import { isIPv4, isIPv6 } from 'node:net';

/** The `ip` switch (docs/privacy.md). */
export type IpRule = 'keep' | 'trim' | 'hide';

function expandIPv6(ip: string): number[] | null {
  if (!isIPv6(ip)) return null;
  const [head = '', tail] = ip.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : null;
}

/**
 * `trim`: IPv4 keeps its first three octets (`203.0.113.77` → `203.0.113.0`); IPv6 its first 48
 * bits (`2001:db8:abcd:12::1` → `2001:db8:abcd::`); IPv4-mapped IPv6 is treated as IPv4.
 * Returns null for anything that is not an IP address.
 */
export function trimIp(ip: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? ip;
  if (isIPv4(v4)) return v4.replace(/\.\d+$/, '.0');
  const groups = expandIPv6(ip);
  if (!groups) return null;
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::`;
}

/** Applies the `ip` switch: the address itself, its trimmed form, or nothing at all (`hide`). */
export function applyIpRule(ip: string, rule: IpRule): string | null {
  if (rule === 'keep') return ip;
  if (rule === 'hide') return null;
  return trimIp(ip);
}
