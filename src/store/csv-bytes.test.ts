import { describe, expect, it } from 'vitest';
import { rowCsvBound, writeRowCsv } from './csv-bytes.js';
import { rowCsvLine } from './csv.js';
import { CAMPAIGN_COLUMNS, emptyRow, type EventRow } from './row.js';

let seed = 7;
const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;

// Text as logs and pages have it, and the cases the CSV must quote or encode.
const PIECES = [
  'a',
  '/path/x',
  ' ',
  ',',
  '"',
  '""',
  '\r',
  '\n',
  '\r\n',
  'é',
  '日本',
  '😀',
  '\ud800',
  '\udfff',
  '\u0080',
  '\u007f',
  '\t',
  '0',
];
const text = (): string | null => {
  const roll = random();
  if (roll < 0.2) return null;
  if (roll < 0.3) return '';
  let value = '';
  const parts = 1 + Math.floor(random() * 8);
  for (let i = 0; i < parts; i++) value += pick(PIECES);
  return value;
};
const integer = (): number | null =>
  pick([
    null,
    0,
    -0,
    7,
    200,
    404,
    65_535,
    2 ** 31,
    2 ** 53 - 1,
    2 ** 53,
    1e21,
    -3,
    1.5,
    Math.floor(random() * 1e9),
  ]);

// The text columns any text can reach (the rest are set below from their own kinds of value).
const TEXT_COLUMNS = [
  'name',
  'path',
  'title',
  'referrerHost',
  'referrerClass',
  'country',
  'region',
  'deviceType',
  'browser',
  'os',
  ...CAMPAIGN_COLUMNS,
] as const;

function randomRow(): EventRow {
  const row = emptyRow({
    id: pick(['014d6155-8098-78f6-8b03-2646c087c001', '0190f5d2-aaaa-7bbb-8ccc-dddddddddddd']),
    ts: pick([
      0,
      9,
      2 ** 30 - 1,
      2 ** 30,
      1_431_857_103_000,
      1_431_857_103_000.7,
      -5,
      Math.floor(random() * 2 ** 53),
    ]),
    site: pick(['semicomplete.com', 'www.exemple.fr', 'bücher.de', 'a,b']),
    type: pick(['pageview', 'event', 'request', 'dns'] as const),
    node: text(),
    status: integer(),
    bytes: integer(),
    source: pick(['browser', 'import', 'proxy', 'demo'] as const),
  });
  for (const column of TEXT_COLUMNS) row[column] = text();
  row.asn = integer();
  row.isBot = random() < 0.5;
  row.visitorHash = pick([null, '10310566375068348352', '0']);
  row.sessionHash = pick([null, '18446744073709551615']);
  row.props = pick([null, '{"a":"b,c"}', '{"q":"\\"x\\""}', '{}']);
  row.paid = random() < 0.5;
  row.screenClass = pick([null, 'mobile', 'desktop']);
  return row;
}

describe('writeRowCsv', () => {
  it('writes the UTF-8 bytes of rowCsvLine, within rowCsvBound, for rows of every kind of field', () => {
    const out = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 20_000; i++) {
      const row = randomRow();
      const at = Math.floor(random() * 100);
      const end = writeRowCsv(row, out, at);
      const expected = Buffer.from(rowCsvLine(row), 'utf8');
      if (!out.subarray(at, end).equals(expected))
        expect(out.subarray(at, end).toString('utf8'), JSON.stringify(row)).toBe(expected.toString('utf8'));
      expect(end - at).toBeLessThanOrEqual(rowCsvBound(row));
    }
  });

  it('stays within its bound for the worst text: every unit a quote, or three bytes of UTF-8', () => {
    const out = Buffer.alloc(64 * 1024);
    for (const worst of ['"'.repeat(1_000), '€'.repeat(1_000), '\ud800'.repeat(1_000)]) {
      const row = randomRow();
      row.path = worst;
      row.title = worst;
      row.props = worst;
      const end = writeRowCsv(row, out, 0);
      expect(out.subarray(0, end).equals(Buffer.from(rowCsvLine(row), 'utf8'))).toBe(true);
      expect(end).toBeLessThanOrEqual(rowCsvBound(row));
    }
  });
});
