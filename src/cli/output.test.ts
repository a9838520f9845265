import { describe, expect, it } from 'vitest';
import { csvCell, formatRows, printable } from './output.js';

describe('CLI output', () => {
  it('neutralises spreadsheet formulas in CSV text cells but not numbers', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+33 6 12')).toBe("'+33 6 12");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(-16)).toBe('-16');
    expect(csvCell(null)).toBe('');
  });

  it('strips terminal escape sequences from table cells', () => {
    expect(printable('\u001b[31mred\u001b[0m')).toBe('?[31mred?[0m');
  });

  it('formats a table with aligned columns, CSV and JSON', () => {
    const rows = [
      { time: '2026-07-07T20:00:00+02:00', value: 84, change: -16 },
      { time: '2026-07-07T21:00:00+02:00', value: 5, change: null },
    ];
    expect(formatRows(rows, 'table').split('\n')).toEqual([
      'time                       value  change',
      '-------------------------  -----  ------',
      '2026-07-07T20:00:00+02:00     84     -16',
      '2026-07-07T21:00:00+02:00      5',
    ]);
    expect(formatRows(rows, 'csv')).toBe(
      'time,value,change\n2026-07-07T20:00:00+02:00,84,-16\n2026-07-07T21:00:00+02:00,5,',
    );
    expect(JSON.parse(formatRows(rows, 'json', { tz: 'Europe/Paris' }))).toEqual({
      tz: 'Europe/Paris',
      rows,
    });
  });
});
