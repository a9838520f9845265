import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchemaText } from '../src/config/json-schema.js';

describe('schema/balise.schema.json', () => {
  it('is up to date with the zod schema (run "npm run schema" when this fails)', () => {
    expect(readFileSync('schema/balise.schema.json', 'utf8')).toBe(configJsonSchemaText());
  });

  it('rejects unknown keys for editors too', () => {
    const schema = JSON.parse(configJsonSchemaText()) as {
      additionalProperties?: boolean;
      required?: string[];
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toContain('sites');
  });
});
