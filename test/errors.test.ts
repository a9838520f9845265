import { readFileSync } from 'node:fs';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { errorsMarkdown } from '../src/errors-doc.js';
import { BaliseError, ERRORS } from '../src/errors.js';

describe('error codes', () => {
  it('docs/errors.md is generated from the table (run "npm run errors-doc" when this fails)', async () => {
    const expected = await format(errorsMarkdown(), { parser: 'markdown', filepath: 'docs/errors.md' });
    expect(readFileSync('docs/errors.md', 'utf8')).toBe(expected);
  });

  it('gives every code one status, a meaning and what to do', () => {
    for (const [code, info] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(info.status, code).toBeGreaterThanOrEqual(400);
      expect(info.status, code).toBeLessThan(600);
      expect(info.meaning.length, code).toBeGreaterThan(10);
      expect(info.whatToDo.length, code).toBeGreaterThan(3);
    }
    expect(new BaliseError('rate_limited', 'wait').status).toBe(429);
  });

  it('uses in the code only codes of the table (each written as a literal somewhere)', () => {
    // A code in the table that nothing throws is a stale row.
    const sources = [
      'src/app.ts',
      'src/api/alerts.ts',
      'src/api/auth.ts',
      'src/api/routes.ts',
      'src/audit/run.ts',
      'src/collect/routes.ts',
      'src/config/sites.ts',
      'src/insights/getSeries.ts',
      'src/insights/detectors/run.ts',
      'src/insights/detectors/detectSeriesAnomalies.ts',
      'src/settings/editor.ts',
      'src/settings/guards.ts',
      'src/store/writer.ts',
      'src/tools/egress-query.ts',
      'src/tools/routes.ts',
      'src/ui/login-guard.ts',
      'src/ui/routes.ts',
      'src/ui/sessions.ts',
    ]
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const unused = Object.keys(ERRORS).filter((code) => !sources.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
