// Regenerates docs/errors.md from the error table in src/errors.ts (a test fails when it is stale).
import { writeFileSync } from 'node:fs';
import { format } from 'prettier';
import { errorsMarkdown } from '../src/errors-doc.js';

const file = new URL('../docs/errors.md', import.meta.url);
writeFileSync(file, await format(errorsMarkdown(), { parser: 'markdown', filepath: 'docs/errors.md' }));
process.stdout.write('wrote docs/errors.md\n');
