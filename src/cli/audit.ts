import { writeFileSync } from 'node:fs';
import { auditHtml, auditText } from '../audit/render.js';
import { auditPeriod, runAudit } from '../audit/run.js';
import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { manifestSchema, type Manifest } from '../tools/manifest.js';
import { componentManifest } from '../tools/loader.js';
import { BUILTIN_COMPONENTS } from '../tools/runtime.js';
import { parse, UsageError } from './args.js';
import { withStore } from './with-store.js';
import { argPath, terminal } from './terminal.js';
import { dirname } from 'node:path';

/** The manifests of the components a configuration uses (built-in, or loaded as serve loads them). */
async function manifestsOf(config: Config, baseDir: string): Promise<Record<string, Manifest>> {
  const out: Record<string, Manifest> = {};
  for (const [name, module] of Object.entries(BUILTIN_COMPONENTS))
    out[name] = manifestSchema.parse(module.manifest);
  for (const site of config.sites)
    for (const tool of site.tools) {
      if (out[tool.component]) continue;
      const manifest = await componentManifest(tool.component, baseDir);
      if (manifest) out[tool.component] = manifest;
    }
  return out;
}

/**
 * `balise audit --config FILE [--since 30d | --from DATE --to DATE] [--format text|json|html] [--out FILE]`:
 * each of the CNIL's analytics-proxy conditions, per site and tool, with its evidence from the
 * configuration and the egress log; exit 1 when any fails (named), 0 when all are met.
 */
export async function auditCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    since: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
  });
  if (!values.config)
    throw new UsageError(
      'usage: balise audit --config balise.yaml [--since 30d] [--format text|json|html] [--out FILE]',
    );
  const format = values.format ?? 'text';
  if (!['text', 'json', 'html'].includes(format))
    throw new UsageError(`--format ${format}: use text, json or html`);
  let period: { from: number; to: number };
  try {
    period = auditPeriod({
      ...(values.since ? { since: values.since } : {}),
      ...(values.from ? { from: values.from } : {}),
      ...(values.to ? { to: values.to } : {}),
    });
  } catch (error) {
    if (error instanceof BaliseError) throw new UsageError(`--${error.path ?? 'since'}: ${error.message}`);
    throw error;
  }
  const configPath = values.config;
  return withStore(configPath, async (store, config) => {
    const report = await runAudit(
      store,
      config,
      await manifestsOf(config, dirname(argPath(configPath))),
      period,
    );
    const text =
      format === 'json'
        ? JSON.stringify(report, null, 2)
        : format === 'html'
          ? auditHtml(report)
          : auditText(report);
    if (values.out) {
      writeFileSync(argPath(values.out), text);
      out(`audit written to ${values.out}`);
    } else out(text);
    if (!report.ok) {
      terminal().err(`audit failed: ${report.failed.join(', ')}\n`);
      return 1;
    }
    return 0;
  });
}
