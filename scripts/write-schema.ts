// Regenerates schema/balise.schema.json from the zod config schema (a test fails when it is stale).
import { writeFileSync } from 'node:fs';
import { configJsonSchemaText } from '../src/config/json-schema.js';

writeFileSync(new URL('../schema/balise.schema.json', import.meta.url), configJsonSchemaText());
process.stdout.write('wrote schema/balise.schema.json\n');
