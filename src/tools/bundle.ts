import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** A component from outside the gateway: its file, source, and the manifest.json beside it. */
export interface ComponentBundle {
  path: string;
  source: string;
  /** The parsed manifest.json beside the bundle (or one folder up, as in `dist/index.js`), if any. */
  manifestFile: unknown;
  manifestPath: string | null;
}

/** The file a folder stands for: its package.json's `main`, else dist/index.js, else index.js. */
function entryOf(folder: string): string | null {
  const packageFile = join(folder, 'package.json');
  if (existsSync(packageFile)) {
    const main = (JSON.parse(readFileSync(packageFile, 'utf8')) as { main?: unknown; module?: unknown }).main;
    if (typeof main === 'string' && existsSync(join(folder, main))) return join(folder, main);
  }
  for (const candidate of ['dist/index.js', 'index.js', 'index.mjs'])
    if (existsSync(join(folder, candidate))) return join(folder, candidate);
  return null;
}

/**
 * Finds a component given as a path (`./x.js`, a folder) or an installed npm package, relative
 * to the configuration's folder, without running any of its code. Throws an Error naming what
 * is missing.
 */
export function findBundle(spec: string, baseDir: string): ComponentBundle {
  let path: string;
  if (spec.startsWith('.') || spec.startsWith('/')) path = resolve(baseDir, spec);
  else {
    try {
      path = createRequire(join(baseDir, 'balise.config.js')).resolve(spec);
    } catch {
      throw new Error(
        `no installed package ${spec} (npm install it beside the configuration, or give a path)`,
      );
    }
  }
  if (!existsSync(path)) throw new Error(`no file ${path}`);
  if (statSync(path).isDirectory()) {
    const entry = entryOf(path);
    if (!entry) throw new Error(`${path} is a folder without package.json main, dist/index.js or index.js`);
    path = entry;
  }
  let manifestPath: string | null = null;
  for (const folder of [dirname(path), dirname(dirname(path))]) {
    const candidate = join(folder, 'manifest.json');
    if (existsSync(candidate)) {
      manifestPath = candidate;
      break;
    }
  }
  let manifestFile: unknown;
  if (manifestPath)
    try {
      manifestFile = JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;
    } catch (error) {
      throw new Error(`${manifestPath} is not JSON (${error instanceof Error ? error.message : ''})`);
    }
  return { path, source: readFileSync(path, 'utf8'), manifestFile, manifestPath };
}
