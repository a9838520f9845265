import { isUtf8 } from 'node:buffer';

/**
 * The other forms personal data may take inside one value, decoded as a vendor (or anyone
 * reading the value) would: percent-encoding applied several times, `+` for a space, HTML
 * entities, `\uXXXX` / `\xXX` escapes (a JSON string inside a string), and base64 or base64url
 * tokens. Returns the decoded forms that differ from `text` (none for nearly every value: a
 * cheap test comes first). Bounded: at most `MAX_ROUNDS` rounds of decoding, `MAX_TOKENS` base64
 * tokens, each decoded form at most as long as the text.
 */
export function decodedForms(text: string): string[] {
  const hasEscapes = ESCAPES.test(text) || text.includes('+');
  const hasToken = TOKEN_TEST.test(text);
  if (!hasEscapes && !hasToken) return [];
  const forms: string[] = [];
  if (hasEscapes) {
    // `+` may be a space (form encoding, at any layer) or a plus (`+33`): both readings are
    // followed, and every layer's text is kept (a `+` one layer reveals may be the next's space).
    for (const plusAsSpace of [false, true])
      for (const form of unescapeLayers(text, plusAsSpace)) if (!forms.includes(form)) forms.push(form);
  }
  const normalised = forms[forms.length - 1] ?? text;
  if (hasToken || TOKEN_TEST.test(normalised)) {
    let tokens = 0;
    for (const match of normalised.matchAll(TOKEN)) {
      if (++tokens > MAX_TOKENS) break;
      const decoded = decodeBase64Text(match[0]);
      if (decoded === null) continue;
      forms.push(
        decoded,
        ...(ESCAPES.test(decoded) || decoded.includes('+') ? unescapeLayers(decoded, true) : []),
      );
    }
  }
  return forms;
}

const MAX_ROUNDS = 5;
const MAX_TOKENS = 16;
// Something decoding could change: a percent escape, a plus, an entity, a backslash escape.
const ESCAPES = /%[0-9A-Fa-f]{2}|&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});|\\[uUxX]/;
// base64 / base64url: 16 characters or more (12 bytes: an e-mail address is longer), padded or not.
const TOKEN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const TOKEN_TEST = /[A-Za-z0-9+/_-]{16,}/;

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  commat: '@',
  period: '.',
  plus: '+',
  colon: ':',
  sol: '/',
  num: '#',
  percnt: '%',
  lpar: '(',
  rpar: ')',
  hyphen: '-',
  dash: '-',
};

const fromCodePoint = (code: number, whole: string): string =>
  code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;

/** One round of every decoding: percent escapes, entities, backslash escapes. */
function unescapeOnce(text: string): string {
  return (
    text
      // Percent escapes, a run at a time so that multi-byte UTF-8 sequences decode whole.
      .replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
        try {
          return decodeURIComponent(run);
        } catch {
          return Buffer.from(run.replace(/%/g, ''), 'hex').toString('latin1');
        }
      })
      .replace(/&#(\d{1,7});/g, (whole, code: string) => fromCodePoint(Number(code), whole))
      .replace(/&#[xX]([0-9A-Fa-f]{1,6});/g, (whole, code: string) =>
        fromCodePoint(parseInt(code, 16), whole),
      )
      .replace(/&([A-Za-z]{2,8});/g, (whole, name: string) => ENTITIES[name.toLowerCase()] ?? whole)
      .replace(/\\[uU]([0-9A-Fa-f]{4})/g, (_whole, code: string) => String.fromCharCode(parseInt(code, 16)))
      .replace(/\\[xX]([0-9A-Fa-f]{2})/g, (_whole, code: string) => String.fromCharCode(parseInt(code, 16)))
  );
}

/**
 * Each layer of a text decoded again and again until it no longer changes (at most MAX_ROUNDS
 * rounds), every layer's text different from `text`. With `plusAsSpace`, each layer is read as
 * form encoding: its `+` signs are spaces, then its escapes are decoded (a `+` an escape reveals
 * belongs to the next layer).
 */
function unescapeLayers(text: string, plusAsSpace: boolean): string[] {
  const layers: string[] = [];
  let current = text;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = unescapeOnce(plusAsSpace ? current.replace(/\+/g, ' ') : current);
    if (next === current) break;
    layers.push(next);
    current = next;
  }
  return layers;
}

/** The text decoded until it no longer changes, `+` kept as plus. */
export function unescapeAll(text: string): string {
  return unescapeLayers(text, false).at(-1) ?? text;
}

/**
 * The text a base64 or base64url token holds, or null when it holds none: the bytes must be
 * valid UTF-8 and nearly all printable (a random id decodes to bytes that are not).
 */
function decodeBase64Text(token: string): string | null {
  const bytes = Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length < 6 || !isUtf8(bytes)) return null;
  const decoded = bytes.toString('utf8');
  let printable = 0;
  for (const char of decoded) {
    const code = char.codePointAt(0)!;
    if ((code >= 0x20 && code !== 0x7f && (code < 0x80 || code >= 0xa0)) || code === 0x0a || code === 0x09)
      printable++;
  }
  return printable >= decoded.length * 0.9 ? decoded : null;
}
