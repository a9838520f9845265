// Builds the browser script src/client/s.ts into dist/client/s.js (minified IIFE, ES2017), and
// the dashboard src/client/dashboard.ts into dist/ui/app.js with its stylesheet.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}dist/client`, { recursive: true });
await build({
  entryPoints: [`${root}src/client/s.ts`],
  outfile: `${root}dist/client/s.js`,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2017',
  legalComments: 'none',
  logLevel: 'warning',
});
mkdirSync(`${root}dist/ui`, { recursive: true });
await build({
  entryPoints: [`${root}src/client/dashboard.ts`],
  outfile: `${root}dist/ui/app.js`,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(`${root}src/client/dashboard.css`, `${root}dist/ui/app.css`);
