import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { scanText, type DlpMode } from '../privacy/dlp/scan.js';
import { scanUrlParts } from '../privacy/dlp/url-parts.js';

/** A request a tool wants to send, as the outbox stores it (text body only). */
export interface OutgoingRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
}

/** Where one tool may send, and under which rules. */
export interface EgressRules {
  /** Hosts of the component's manifest, EU endpoints marked. */
  manifestHosts: readonly { host: string; eu: boolean }[];
  /** Hosts the operator added in the config file's `allowHosts` (may be private addresses, may use http). */
  operatorHosts: readonly string[];
  /**
   * Hosts of the tool's own settings (a webhook's `url`): allowed, meet `region: eu` (the
   * operator chose them), but https and public addresses only — settings may come from the API.
   */
  settingsHosts?: readonly string[];
  region: 'eu' | 'any';
  dlp: DlpMode;
  maxBodyBytes: number;
  /** Headers made again when the request is sent (the manifest's `batch.vary`, by its `seal`): not scanned. */
  sealedHeaders?: readonly string[];
}

/**
 * The guard's answer: the request to send (DLP applied) and its findings — with, for a JSON body,
 * the value its text holds (the guard's own parse: the outbox batches from it instead of parsing
 * the text again) — or why it is refused.
 */
export type EgressDecision =
  | {
      ok: true;
      request: OutgoingRequest;
      findings: string[];
      /** The destination is one of the component's own (manifest) hosts. */
      manifestHost: boolean;
      json?: unknown;
    }
  | { ok: false; reason: string };

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated), ::a.b.c.d
  ['64:ff9b::', 96], // NAT64: an IPv4 address behind a translator, private ones included
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: an embedded IPv4 address, private ones included
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** The host name of a URL as allow-lists hold it: lower case, IPv6 without brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** True for loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Scans every key and string of a parsed JSON value, in place (the value is the guard's own
 * copy): nothing is allocated for the clean values that make up nearly every request.
 */
function scanJson(value: unknown, scan: (text: string) => string): unknown {
  if (typeof value === 'string') return scan(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = scanJson(value[i], scan);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    let renamed: Map<string, string> | null = null;
    for (const key of Object.keys(object)) {
      object[key] = scanJson(object[key], scan);
      const scannedKey = scan(key);
      if (scannedKey !== key) (renamed ??= new Map()).set(key, scannedKey);
    }
    if (!renamed) return object;
    // A key the DLP changed: the object is rebuilt, keys in their order.
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(object)) out[renamed.get(key) ?? key] = v;
    return out;
  }
  return value;
}

/** One DLP pass over a request's values: the kinds found, and whether a value was rewritten. */
class DlpPass {
  readonly findings: string[] = [];
  changed = false;
  /** A value the gateway made itself was met (and left alone). */
  exempted = false;

  constructor(
    private readonly mode: DlpMode,
    /**
     * Values the gateway made itself for this event — its id, the IP as the tool's policy left it
     * (trimmed), the reduced User-Agent, the client id: left as they are wherever they appear whole.
     */
    private readonly produced?: ReadonlySet<string>,
  ) {}

  scan = (text: string): string => {
    if (this.produced?.has(text)) {
      this.exempted = true;
      return text;
    }
    const result = scanText(text, this.mode);
    if (result.found.length > 0) this.findings.push(...result.found);
    if (result.text !== text) this.changed = true;
    return result.text;
  };
}

type UrlCheck =
  | { ok: true; href: string; findings: readonly string[]; manifestHost: boolean }
  | { ok: false; reason: string };

/**
 * URLs a tool sends to, already checked and found clean, per tool's rules: a tool sends to the
 * same few URLs, and parsing and scanning each again cost more than the rest of the check.
 * Bounded; only clean URLs are kept (no personal data the DLP knows stays in memory).
 */
const checkedUrls = new WeakMap<EgressRules, Map<string, UrlCheck>>();

/** The URL part of `checkRequest`: allow-list, protocol, region, credentials, DLP of path and query. */
function checkUrl(text: string, rules: EgressRules, produced?: ReadonlySet<string>): UrlCheck {
  let known = checkedUrls.get(rules);
  const hit = known?.get(text);
  if (hit) return hit;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  const host = hostOf(url);
  const byOperator = rules.operatorHosts.includes(host);
  const bySettings = rules.settingsHosts?.includes(host) ?? false;
  const inManifest = rules.manifestHosts.find((h) => h.host === host);
  if (!byOperator && !bySettings && !inManifest)
    return { ok: false, reason: `host ${host} is not on the tool's allow-list` };
  if (url.protocol !== 'https:' && !(byOperator && url.protocol === 'http:'))
    return { ok: false, reason: 'only https is allowed (http only for hosts in allowHosts)' };
  if (!byOperator && isIP(host) !== 0 && isPrivateAddress(host))
    return { ok: false, reason: `${host} is a private address (allowed only through allowHosts)` };
  if (rules.region === 'eu' && !byOperator && !bySettings && !inManifest?.eu)
    return { ok: false, reason: `region eu: ${host} is not an EU endpoint` };
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL' };
  // The URL is rebuilt only when the DLP changed something (rebuilding re-parses it, and a clean
  // URL — nearly all of them — is sent as the component wrote it).
  const dlp = new DlpPass(rules.dlp, produced);
  // Each path segment, query key and value and the fragment, decoded, on its own.
  scanUrlParts(url, dlp.scan);
  const checked: UrlCheck = {
    ok: true,
    href: dlp.changed ? url.href : text,
    findings: dlp.findings,
    manifestHost: inManifest !== undefined,
  };
  if (dlp.findings.length === 0 && !dlp.exempted) {
    if (!known) checkedUrls.set(rules, (known = new Map<string, UrlCheck>()));
    if (known.size >= 1000) known.clear();
    known.set(text, checked);
  }
  return checked;
}

/**
 * Checks a request against the tool's allow-list, region and size limit, and runs the outbound
 * DLP over its URL (path and each query value), header values and body (each JSON string or
 * form value, or the whole text). `mask` rewrites the request, `drop` refuses it, `report`
 * counts. Runs before the request is queued; addresses are checked again when it is sent.
 * `produced` holds the values the gateway made itself for the event (its id, the trimmed IP, the
 * reduced User-Agent, the client id): left as they are wherever they appear whole.
 */
export function checkRequest(
  request: OutgoingRequest,
  rules: EgressRules,
  produced?: ReadonlySet<string>,
): EgressDecision {
  const target = checkUrl(request.url, rules, produced);
  if (!target.ok) return target;
  const dlp = new DlpPass(rules.dlp, produced);
  dlp.findings.push(...target.findings);
  const scan = dlp.scan;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    const name = key.toLowerCase();
    headers[name] = rules.sealedHeaders?.includes(name) ? value : scan(value);
  }
  let body = request.body;
  let json: unknown;
  if (body !== null) {
    const type = headers['content-type'] ?? '';
    dlp.changed = false;
    if (type.includes('json')) {
      try {
        json = scanJson(JSON.parse(body), scan);
        if (dlp.changed) body = JSON.stringify(json);
      } catch {
        body = scan(body);
      }
    } else if (type.includes('x-www-form-urlencoded')) {
      const form = new URLSearchParams();
      for (const [key, value] of new URLSearchParams(body)) form.append(key, scan(value));
      if (dlp.changed) body = form.toString();
    } else body = scan(body);
    if (Buffer.byteLength(body) > rules.maxBodyBytes)
      return { ok: false, reason: `body larger than ${rules.maxBodyBytes} bytes` };
  }
  const { findings } = dlp;
  if (findings.length > 0 && rules.dlp === 'drop')
    return { ok: false, reason: `dlp_blocked: ${[...new Set(findings)].join(', ')}` };
  const checked = { ...request, url: target.href, headers, body };
  const { manifestHost } = target;
  return json === undefined
    ? { ok: true, request: checked, findings, manifestHost }
    : { ok: true, request: checked, findings, manifestHost, json };
}

/**
 * Refuses a destination that is, or resolves to, a private, loopback or link-local address
 * (SSRF: cloud metadata, the gateway's own network) unless the operator listed that host.
 * Returns the reason, or null when the request may leave.
 */
export async function checkAddress(
  url: string,
  operatorHosts: readonly string[],
  resolve: (host: string) => Promise<string[]> = resolveHost,
): Promise<string | null> {
  const host = hostOf(new URL(url));
  if (operatorHosts.includes(host)) return null;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    return `cannot resolve ${host}`;
  }
  const blocked = addresses.find(isPrivateAddress);
  return blocked ? `${host} resolves to the private address ${blocked}` : null;
}

async function resolveHost(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

const LOOKUP_TTL_MS = 30_000;
const LOOKUPS_KEPT = 1000;

/**
 * A resolver for `checkAddress` that remembers each host's addresses 30 s (bounded): a name is
 * not resolved again for every delivery. The transport checks the address it actually connects
 * to, so a stale answer here can never let a private address through.
 */
export function recentLookups(
  resolve: (host: string) => Promise<string[]> = resolveHost,
): (host: string) => Promise<string[]> {
  const kept = new Map<string, { addresses: string[]; until: number }>();
  return async (host) => {
    const now = Date.now();
    const hit = kept.get(host);
    if (hit && hit.until > now) return hit.addresses;
    const addresses = await resolve(host);
    if (kept.size >= LOOKUPS_KEPT) kept.clear();
    kept.set(host, { addresses, until: now + LOOKUP_TTL_MS });
    return addresses;
  };
}

/** SHA-256 hex of a body (the egress log keeps the digest, never the body). */
export function bodyDigest(body: string | null): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}
