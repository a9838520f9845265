import { ConfigError, formatProblems, loadConfigFile } from '../config/load.js';
import { UsageError } from './args.js';
import type { Config } from '../config/schema.js';
import { manifestSchema } from '../tools/manifest.js';
import { BUILTIN_COMPONENTS, missingSettings } from '../tools/runtime.js';

/** Valid but worth a look (PRIVACY.md, consent): tools that receive events without consent. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const site of config.sites)
    for (const tool of site.tools)
      if (!tool.purpose)
        warnings.push(
          `sites[${site.host}].tools[${tool.id}]: no purpose, so it receives events without consent; give it one of consent.purposes`,
        );
  return warnings;
}

/**
 * Problems only the tools can tell: a built-in component's required settings left out (the
 * same check the gateway makes at start, run here so that `config check` catches it first).
 */
export function toolProblems(config: Config): string[] {
  const problems: string[] = [];
  config.sites.forEach((site, i) =>
    site.tools.forEach((tool, j) => {
      const builtin = BUILTIN_COMPONENTS[tool.component];
      if (!builtin) return;
      const manifest = manifestSchema.parse(builtin.manifest);
      for (const name of missingSettings(manifest, tool.settings))
        problems.push(`sites[${i}].tools[${j}].settings.${name}: required by ${manifest.name}; add it`);
    }),
  );
  return problems;
}

/** `balise config check FILE`: lists every problem with its path and what to do; exit 2 when any. */
export function configCheck(argv: string[], out: (line: string) => void): number {
  const [sub, file, ...rest] = argv;
  if (sub !== 'check' || !file || rest.length > 0) throw new UsageError('usage: balise config check FILE');
  try {
    const config = loadConfigFile(file);
    const problems = toolProblems(config);
    if (problems.length > 0) {
      out(`${file}: ${problems.length} problem(s)`);
      for (const problem of problems) out(`  ${problem}`);
      return 2;
    }
    out(
      `ok: ${file} is valid (${config.sites.length} site(s): ${config.sites.map((s) => s.host).join(', ')})`,
    );
    for (const line of configWarnings(config)) out(`warning: ${line}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    out(`${file}: ${error.problems.length} problem(s)`);
    out(formatProblems(error.problems));
    return 2;
  }
}
