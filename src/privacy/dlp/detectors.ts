import { isIPv6 } from 'node:net';
import { findPhoneNumbersInText } from 'libphonenumber-js/max';
import { ibanValid, luhnValid, nirValid } from './checksums.js';

/** Kinds of personal data the DLP finds (docs/privacy.md, `dlp`). */
export const DLP_KINDS = ['email', 'iban', 'nir', 'siret', 'card', 'siren', 'phone', 'ip'] as const;

/** One kind of personal data the DLP finds. */
export type DlpKind = (typeof DLP_KINDS)[number];

/** A match: where it is in the scanned text. */
export interface Span {
  start: number;
  end: number;
}

/** Finds every span of one kind in `text`. Patterns are bounded so they run in linear time. */
export type Detector = (text: string) => Span[];

/**
 * Cheap preconditions per kind, checked before a detector runs: the fewest digits a match can
 * have, and a character it must contain. Most texts (paths, titles) fail them and cost nothing.
 */
export const NEEDS: Record<DlpKind, { digits: number; char?: RegExp }> = {
  email: { digits: 0, char: /@/ },
  iban: { digits: 10 },
  nir: { digits: 11 },
  siret: { digits: 14 },
  card: { digits: 13 },
  siren: { digits: 9 },
  phone: { digits: 8 },
  ip: { digits: 2, char: /[.:]/ },
};

function byPattern(pattern: RegExp, valid: (match: string) => boolean): Detector {
  return (text) => {
    const spans: Span[] = [];
    for (const match of text.matchAll(pattern)) {
      if (valid(match[0])) spans.push({ start: match.index, end: match.index + match[0].length });
    }
    return spans;
  };
}

const digitsOnly = (s: string) => s.replace(/[ -]/g, '');

const PHONE_START = /(?:\+\s?\d|(?<![\w])0)[\d .()/-]{7,}/;

/** The detectors, in the order they are applied (a longer, checked kind before a shorter one). */
export const DETECTORS: Record<DlpKind, Detector> = {
  email: byPattern(
    /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g,
    () => true,
  ),
  // Upper case as printed (ISO 13616), in groups of four or contiguous.
  iban: byPattern(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, ibanValid),
  nir: byPattern(/\b[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b/gi, nirValid),
  card: byPattern(/\b\d(?:[ -]?\d){12,18}\b/g, (m) => luhnValid(digitsOnly(m))),
  siret: byPattern(/\b\d{3} ?\d{3} ?\d{3} ?\d{5}\b/g, (m) => luhnValid(digitsOnly(m))),
  siren: byPattern(/\b\d{3} ?\d{3} ?\d{3}\b/g, (m) => luhnValid(digitsOnly(m))),
  phone: (text) =>
    // libphonenumber is the costly step: run it only when something starts like a written number
    // (+ and a digit, or a 0 not inside a word) and runs on for 7 more digits or separators.
    !PHONE_START.test(text)
      ? []
      : findPhoneNumbersInText(text, { defaultCountry: 'FR' })
          // A number must be written as one (international +/00 or national with its leading 0),
          // so that bare identifiers such as /article/123456789 are not taken for phones.
          .filter(
            (found) =>
              found.number.isValid() && /^(?:\+|00|0)/.test(text.slice(found.startsAt, found.endsAt)),
          )
          .map((found) => ({ start: found.startsAt, end: found.endsAt })),
  ip: (text) => {
    const spans: Span[] = [];
    // Not inside a dotted version number (rv:1.9.0.19, Chrome/1.2.3.4, 10.1.2.3.4).
    const v4 =
      /(?<![\w./-]|rv:)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.]*\d)/g;
    for (const m of text.matchAll(v4)) spans.push({ start: m.index, end: m.index + m[0].length });
    for (const m of text.matchAll(/[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}/g)) {
      if (m[0].length >= 3 && isIPv6(m[0])) spans.push({ start: m.index, end: m.index + m[0].length });
    }
    return spans;
  },
};
