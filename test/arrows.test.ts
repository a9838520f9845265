// The layers' imports point one way: a lower layer never imports a higher one. Each rule names
// the folder, the folders it must not import, and why.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

const RULES: { from: string; never: string[]; why: string }[] = [
  {
    from: 'store',
    never: ['tools', 'collect', 'api', 'ui', 'import', 'insights', 'privacy', 'pipeline', 'plausible'],
    why: 'the store defines what it keeps; the parts above it use it',
  },
  {
    from: 'privacy',
    never: ['store', 'tools', 'collect', 'api', 'ui', 'import'],
    why: 'privacy steps take what they need through their own interfaces (SaltSource)',
  },
  {
    from: 'import',
    never: ['collect', 'api', 'ui', 'tools'],
    why: 'imports share the pipeline and the site index with collect, not collect itself',
  },
  {
    from: 'config',
    never: ['ui', 'collect', 'api', 'store', 'tools', 'import', 'insights', 'plausible', 'proxy'],
    why: 'configuration is read by everything and reads nothing above it',
  },
  { from: 'ui', never: ['collect', 'import'], why: 'the dashboard shares helpers through http/ and auth/' },
  {
    from: 'insights',
    never: ['collect', 'api', 'ui', 'tools', 'import'],
    why: 'insights read the store only',
  },
  {
    from: 'plausible',
    never: ['collect', 'api', 'ui', 'tools', 'import'],
    why: 'the Plausible-compatible queries read the store and the visits, like insights',
  },
  {
    from: 'proxy',
    never: ['collect', 'api', 'ui', 'tools', 'import', 'insights', 'plausible'],
    why: 'the proxy forwards and hands its events to the pipeline and the writer, like collect, not through it',
  },
  {
    from: 'alerts',
    never: ['collect', 'api', 'ui', 'tools', 'import', 'proxy', 'plausible'],
    why: 'alerts read the detectors and the store and notify; the API and the dashboard read the alert log',
  },
  { from: 'http', never: ['collect', 'api', 'ui', 'store', 'tools'], why: 'neutral helpers' },
  { from: 'auth', never: ['collect', 'api', 'ui', 'store', 'tools', 'config'], why: 'neutral helpers' },
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The top folder under src/ of each module a file imports. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const folders: string[] = [];
  for (const match of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
    const target = relative(SRC, resolve(dirname(file), match[1]!));
    if (!target.startsWith('..')) folders.push(target.split('/')[0]!);
  }
  return folders;
}

describe('imports point one way', () => {
  for (const rule of RULES) {
    it(`src/${rule.from}/ imports none of ${rule.never.join(', ')} (${rule.why})`, () => {
      const files = sources(join(SRC, rule.from));
      expect(files.length).toBeGreaterThan(0);
      const wrong = files.flatMap((file) =>
        importedFolders(file)
          .filter((folder) => rule.never.includes(folder))
          .map((folder) => `${relative(SRC, file)} → ${folder}/`),
      );
      expect(wrong).toEqual([]);
    });
  }
});

describe('source files stay small', () => {
  // CONTRIBUTING.md: small files by domain. Tests and generated files aside.
  const MAX_LINES = 350;
  it(`no source file under src/ is longer than ${MAX_LINES} lines`, () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(100);
    const long = files
      .map((file) => [relative(SRC, file), readFileSync(file, 'utf8').split('\n').length - 1] as const)
      .filter(([, lines]) => lines > MAX_LINES)
      .map(([file, lines]) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
