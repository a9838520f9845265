import { TCString } from '@iabtcf/core';
import type { IncomingHttpHeaders } from 'node:http';
import type { SiteConfig } from '../config/schema.js';

/** Consent choices, purpose → granted. */
export type Choices = Record<string, boolean>;

const PURPOSE = /^[a-z0-9_-]{1,32}$/;

/** The value of one cookie of a Cookie header, or null. */
export function cookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/** Consent choices from the `balise_consent` cookie (JSON map purpose → boolean), or null. */
export function consentFromCookie(header: string | undefined): Choices | null {
  const value = cookie(header, 'balise_consent');
  if (value === null) return null;
  try {
    const parsed: unknown = JSON.parse(decodeURIComponent(value));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    const out: Choices = {};
    for (const [purpose, granted] of Object.entries(parsed as Record<string, unknown>))
      if (typeof granted === 'boolean' && PURPOSE.test(purpose)) out[purpose] = granted;
    return out;
  } catch {
    return null;
  }
}

// Decoded TC strings, most recent last: a visitor's string comes with each of their requests.
const decoded = new Map<string, { purposes: Set<number>; vendors: Set<number> } | null>();

function decodeTcString(value: string): { purposes: Set<number>; vendors: Set<number> } | null {
  if (decoded.has(value)) return decoded.get(value)!;
  let result: { purposes: Set<number>; vendors: Set<number> } | null = null;
  try {
    const model = TCString.decode(value);
    result = {
      purposes: new Set(model.purposeConsents.values()),
      vendors: new Set(model.vendorConsents.values()),
    };
  } catch {
    result = null;
  }
  if (decoded.size >= 1000) decoded.delete(decoded.keys().next().value!);
  decoded.set(value, result);
  return result;
}

/**
 * The site's purposes an IAB TCF v2.2 consent string grants (the `consent.tcf` mapping: a purpose
 * is granted when every TCF purpose and vendor it lists has consent), or null without a valid
 * string.
 */
export function consentFromTcf(site: SiteConfig, header: string | undefined): Choices | null {
  const tcf = site.consent.tcf;
  if (!tcf) return null;
  const value = cookie(header, tcf.cookie);
  if (!value || value.length > 10_000) return null;
  const model = decodeTcString(decodeURIComponent(value));
  if (!model) return null;
  const out: Choices = {};
  for (const [purpose, needs] of Object.entries(tcf.purposes))
    out[purpose] =
      needs.purposes.every((p) => model.purposes.has(p)) && needs.vendors.every((v) => model.vendors.has(v));
  return out;
}

/**
 * The consent of one collect request, for its events: an event's own choices, else the
 * `balise_consent` cookie, else the site's TCF string; `Sec-GPC: 1` then refuses the purposes
 * `consent.gpc` names (default: marketing), whatever was chosen.
 */
export function requestConsent(
  site: SiteConfig,
  headers: IncomingHttpHeaders,
): { of: (event: Choices | undefined) => Choices | null } {
  const fallback = consentFromCookie(headers.cookie) ?? consentFromTcf(site, headers.cookie);
  const gpc = headers['sec-gpc'] === '1' ? site.consent.gpc : [];
  return {
    of: (event) => {
      const chosen = event ?? fallback;
      if (gpc.length === 0) return chosen;
      const out: Choices = { ...(chosen ?? {}) };
      for (const purpose of gpc) out[purpose] = false;
      return out;
    },
  };
}
