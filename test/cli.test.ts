import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function balise(...args: string[]) {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout + result.stderr };
}

describe('balise config check', () => {
  it('exits 0 and names the sites of a valid file', () => {
    const file = join(temp.dir, 'ok.yaml');
    writeFileSync(file, 'sites:\n  - host: www.example.fr\n    group: news\n');
    const { code, out } = balise('config', 'check', file);
    expect(code).toBe(0);
    expect(out).toContain('1 site(s): www.example.fr');
  });

  it('lists every problem with its path and exits 2', () => {
    const file = join(temp.dir, 'bad.yaml');
    writeFileSync(
      file,
      'server:\n  port: "eighty"\n  colour: red\nsites:\n  - host: www.example.fr\n    timezone: Mars/Olympus\n',
    );
    const { code, out } = balise('config', 'check', file);
    expect(code).toBe(2);
    expect(out).toContain('3 problem(s)');
    expect(out).toContain('server.port:');
    expect(out).toContain('server.colour: unknown key');
    expect(out).toContain('sites[0].timezone: must be an IANA time zone');
  });

  it('explains usage errors with exit 2', () => {
    expect(balise('config').code).toBe(2);
    const { code, out } = balise('frobnicate');
    expect(code).toBe(2);
    expect(out).toContain('unknown command "frobnicate"');
  });

  it('refuses serve without --config', () => {
    const { code, out } = balise('serve');
    expect(code).toBe(2);
    expect(out).toContain('usage: balise serve --config');
  });
});
