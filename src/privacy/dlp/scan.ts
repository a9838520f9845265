import { Memo } from '../../memo.js';
import { DETECTORS, DLP_KINDS, NEEDS, type DlpKind } from './detectors.js';
import { decodedForms } from './normalise.js';

/** What the DLP does with a finding (docs/privacy.md `dlp`). */
export type DlpMode = 'off' | 'report' | 'mask' | 'drop';

/** Longest text scanned; longer values are cut first (docs/threats.md: ReDoS on attacker strings). */
export const DLP_MAX_LENGTH = 4096;

/** The result of scanning one text: the text to keep and the kinds found (never the values). */
export interface Scan {
  readonly text: string;
  readonly found: readonly DlpKind[];
}

/** Texts up to this length found clean are remembered (titles, URLs and names repeat). */
const CLEAN_MAX_LENGTH = 512;
/**
 * Texts a scan found nothing in — the detectors are pure functions of the text, so the answer
 * holds for every mode that scans. Bounded, in memory only, and by definition holding no
 * personal data the detectors know.
 */
const clean = new Memo<Scan>(10_000);

/** The kinds found in a clean text (one frozen array, shared: a scan's `found` is read only). */
const NOTHING: readonly DlpKind[] = Object.freeze([]);

/**
 * Scans `text` for personal data. In `mask` mode each match becomes `[redacted:<kind>]`;
 * otherwise the text is returned unchanged with what was found. Matches are masked as they are
 * found either way, so one value is counted once, as its most specific kind.
 */
export function scanText(text: string, mode: DlpMode): Scan {
  if (mode === 'off' || text.length === 0) return { text, found: NOTHING };
  // A clean text's scan is kept whole: a request's values are mostly the same few texts again.
  const known = text.length <= CLEAN_MAX_LENGTH ? clean.find(text) : undefined;
  if (known) return known;
  const plain = scanPlain(text, mode);
  // The value as a vendor would read it once decoded (percent-encoded twice, an entity, a base64
  // token…): a finding there masks the whole value — its span in the original cannot be told.
  const source = text.length > DLP_MAX_LENGTH ? text.slice(0, DLP_MAX_LENGTH) : text;
  for (const form of decodedForms(source)) {
    const hidden = scanPlain(form, 'report').found;
    if (hidden.length === 0) continue;
    const kinds = [...plain.found, ...hidden];
    return { text: mode === 'mask' ? `[redacted:${hidden[0]}]` : text, found: kinds };
  }
  if (plain.found.length === 0 && text.length <= CLEAN_MAX_LENGTH)
    clean.set(text, Object.freeze({ text, found: NOTHING }));
  return plain;
}

/** The detectors over the text as it is (no decoding). */
function scanPlain(text: string, mode: DlpMode): Scan {
  let current = text.length > DLP_MAX_LENGTH ? text.slice(0, DLP_MAX_LENGTH) : text;
  const found: DlpKind[] = [];
  // Cheap prefilter: every detector needs a digit, an @ or a colon.
  if (!/[\d@:]/.test(current)) return { text: mode === 'mask' ? current : text, found };
  let digits = 0;
  for (let i = 0; i < current.length; i++) {
    const c = current.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  for (const kind of DLP_KINDS) {
    const needs = NEEDS[kind];
    if (digits < needs.digits || (needs.char && !needs.char.test(current))) continue;
    const spans = DETECTORS[kind](current);
    if (spans.length === 0) continue;
    for (let i = 0; i < spans.length; i++) found.push(kind);
    let out = '';
    let last = 0;
    for (const span of spans.sort((a, b) => a.start - b.start)) {
      if (span.start < last) continue;
      out += `${current.slice(last, span.start)}[redacted:${kind}]`;
      last = span.end;
    }
    current = out + current.slice(last);
  }
  return { text: mode === 'mask' ? current : text, found };
}
