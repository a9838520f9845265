// Builds the browser script src/client/s.ts into dist/client/s.js (minified IIFE, ES2017), the
// dashboard src/client/dashboard.ts into dist/ui/app.js with its stylesheet, and the import's
// worker thread into one file, dist/import/worker.bundle.js.
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

// The import worker with its dependencies in one module: each worker thread loads it in ≈ 70 ms
// of CPU instead of ≈ 300 ms for the ~140 files of its module graph (BENCHMARKS.md). Runs after
// tsc (package.json's build); CommonJS dependencies get a `require` for Node's own modules.
await build({
  entryPoints: [`${root}dist/import/worker.js`],
  outfile: `${root}dist/import/worker.bundle.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  banner: {
    js: "import { createRequire as balise_createRequire } from 'node:module'; const require = balise_createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
