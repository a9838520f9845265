import { BlockList, isIP } from 'node:net';

/** A token bucket's shape: `rate` requests a second on average, `burst` at once. */
export interface Bucket {
  rate: number;
  burst: number;
}

/** What `proxy.protect` says. */
export interface ProtectConfig {
  perPrefix?: Bucket | undefined;
  perPath?: Bucket | undefined;
  underAttack: Bucket;
  allow: readonly string[];
}

/** A decision on one request: forwarded, or refused for `retryAfter` seconds and why. */
export type Decision =
  { ok: true } | { ok: false; retryAfter: number; reason: 'prefix' | 'path' | 'under_attack' };

/** Most buckets kept (distinct prefixes or paths); past it the oldest half is forgotten. */
const MAX_BUCKETS = 100_000;

/** The client's network: its /24 (IPv4) or /48 (IPv6), the unit a limit applies to. */
export function clientPrefix(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  if (isIP(address) === 4) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::')
    ? [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 3)
    .map((group) => String(parseInt(group, 16).toString(16)))
    .join(':')}::/48`;
}

/** Token buckets by key, refilled continuously; bounded in number. */
class Buckets {
  private readonly state = new Map<string, { tokens: number; at: number }>();

  /** Takes one token; 0 when there was one, else the seconds until there is. */
  take(key: string, bucket: Bucket, now: number): number {
    let entry = this.state.get(key);
    if (!entry) {
      if (this.state.size >= MAX_BUCKETS) {
        let drop = this.state.size / 2;
        for (const old of this.state.keys()) {
          this.state.delete(old);
          if (--drop <= 0) break;
        }
      }
      entry = { tokens: bucket.burst, at: now };
      this.state.set(key, entry);
    }
    entry.tokens = Math.min(bucket.burst, entry.tokens + ((now - entry.at) / 1000) * bucket.rate);
    entry.at = now;
    if (entry.tokens >= 1) {
      entry.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - entry.tokens) / bucket.rate));
  }
}

/**
 * L7 protection of one proxied site: token buckets per client network (/24, /48) and per path,
 * and an "under attack" mode (switched by hand) in which each network gets the small
 * `underAttack` bucket. Allow-listed networks are never limited. Counts its decisions.
 */
export class Protection {
  underAttack = false;
  readonly counts = { forwarded: 0, prefix: 0, path: 0, under_attack: 0 };
  private readonly prefixes = new Buckets();
  private readonly paths = new Buckets();
  private readonly attackBuckets = new Buckets();
  private readonly allowed = new BlockList();

  constructor(private readonly config: ProtectConfig) {
    for (const entry of config.allow) {
      const [address, bits] = entry.split('/');
      const type = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.allowed.addAddress(address!, type);
      else this.allowed.addSubnet(address!, Number(bits), type);
    }
  }

  /** Whether this request may go on. */
  decide(ip: string, path: string, now = Date.now()): Decision {
    // A BlockList check costs an address object (≈ 3 µs): only when there is an allow-list.
    if (ip && this.config.allow.length > 0 && this.allowed.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) {
      this.counts.forwarded++;
      return { ok: true };
    }
    const prefix = clientPrefix(ip);
    const refuse = (retryAfter: number, reason: 'prefix' | 'path' | 'under_attack'): Decision => {
      this.counts[reason]++;
      return { ok: false, retryAfter, reason };
    };
    if (this.underAttack) {
      const wait = this.attackBuckets.take(prefix, this.config.underAttack, now);
      if (wait > 0) return refuse(wait, 'under_attack');
    }
    if (this.config.perPrefix) {
      const wait = this.prefixes.take(prefix, this.config.perPrefix, now);
      if (wait > 0) return refuse(wait, 'prefix');
    }
    if (this.config.perPath) {
      const wait = this.paths.take(path.split('?')[0]!, this.config.perPath, now);
      if (wait > 0) return refuse(wait, 'path');
    }
    this.counts.forwarded++;
    return { ok: true };
  }
}
