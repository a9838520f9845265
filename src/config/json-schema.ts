import { z } from 'zod';
import { configSchema } from './schema.js';

/** The config schema as JSON Schema (draft 2020-12), for editors; published as schema/balise.schema.json. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    title: 'Balise configuration (balise.yaml)',
  };
}

/** The published file's text: stable key order, two-space indentation, final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
