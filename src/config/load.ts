import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { hashPassword } from '../auth/password.js';
import { dirname, resolve } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { zodPath } from '../zod-path.js';
import { configSchema, type Config } from './schema.js';

/** One problem found in a configuration: where (a dotted path) and what to do about it. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Thrown when a configuration cannot be used; carries every problem found, not only the first. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${source}: ${problems.length} problem(s)\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
  }
}

/** Formats problems one per line, as `path: message`. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  ${p.path || '(top)'}: ${p.message}`).join('\n');
}

/** Secrets and values read from outside the file: `${NAME}` from the environment, `${file:PATH}` from a file. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Replaces `${NAME}` and `${file:PATH}` in every string of a parsed YAML tree; reports what is missing. */
function substitute(
  value: unknown,
  env: Environment,
  baseDir: string,
  path: string,
  out: ConfigProblem[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]+)\}/g, (_all, name: string) => {
      if (name.startsWith('file:')) {
        const file = resolve(baseDir, name.slice(5));
        try {
          return readFileSync(file, 'utf8').trim();
        } catch {
          out.push({ path, message: `cannot read secret file ${file}; create it or fix the path` });
          return '';
        }
      }
      const found = env[name];
      if (found === undefined) {
        out.push({ path, message: `environment variable ${name} is not set; set it or remove this value` });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, env, baseDir, `${path}[${i}]`, out));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, v] of Object.entries(value)) {
      result[key] = substitute(v, env, baseDir, path ? `${path}.${key}` : key, out);
    }
    return result;
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = zodPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: path ? `${path}.${key}` : key,
      message: 'unknown key; remove it or fix its spelling (see schema/balise.schema.json)',
    }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ path, message: `required (${issue.expected}); add it` }];
  }
  return [{ path, message: issue.message }];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Validates a parsed configuration tree and returns the frozen Config, with relative paths
 * resolved against `baseDir`. Throws ConfigError listing every problem.
 */
export function parseConfig(
  raw: unknown,
  options: { source?: string; baseDir?: string; env?: Environment } = {},
): Config {
  const source = options.source ?? 'config';
  const baseDir = options.baseDir ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const substituted = substitute(raw ?? {}, options.env ?? process.env, baseDir, '', problems);
  const result = configSchema.safeParse(substituted);
  if (!result.success) problems.push(...result.error.issues.flatMap(describeIssue));
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  const config = result.data;
  // The files this gateway keeps beside the store: named after the DuckDB file, or under ./data
  // for ClickHouse (each gateway its own spool and outbox).
  if (config.store.kind === 'duckdb')
    config.store.path = config.store.path === ':memory:' ? ':memory:' : resolve(baseDir, config.store.path);
  const local = config.store.kind === 'duckdb' ? config.store.path : resolve(baseDir, 'data/balise');
  config.store.spoolDir = resolve(baseDir, config.store.spoolDir ?? `${local}.spool`);
  config.outbox.dir = resolve(baseDir, config.outbox.dir ?? `${local}.outbox`);
  config.alerts.dir = resolve(baseDir, config.alerts.dir ?? `${local}.alerts`);
  for (const key of ['countryMmdb', 'cityMmdb', 'asnMmdb'] as const) {
    const file = config.geo[key];
    if (file !== undefined) config.geo[key] = resolve(baseDir, file);
  }
  for (const site of config.sites) {
    if (site.privacy.trackerRules !== undefined)
      site.privacy.trackerRules = resolve(baseDir, site.privacy.trackerRules);
    // A component given as a path is relative to the config file, like every other path.
    for (const tool of site.tools)
      if (tool.component.startsWith('.')) tool.component = resolve(baseDir, tool.component);
  }
  // A plain dashboard password in the environment is hashed at start and never kept.
  const plain = (options.env ?? process.env).BALISE_ADMIN_PASSWORD;
  if (plain && !config.admin.passwordHash) config.admin.passwordHash = hashPassword(plain);
  config.server.node ??= hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64);
  return deepFreeze(config);
}

/** Where a configuration comes from: a YAML file, the environment its secrets are read from, and
 * an optional overlay applied to the parsed tree before validation (the demo sets its per-run
 * server, store and admin values this way, so the file holds only what the dashboard edits). */
export interface ConfigSource {
  file: string;
  env: Environment;
  overlay?: (raw: Record<string, unknown>) => Record<string, unknown>;
}

/** The source for a configuration file read with this process's environment. */
export function fileSource(
  file: string,
  overlay?: (raw: Record<string, unknown>) => Record<string, unknown>,
): ConfigSource {
  return { file: resolve(file), env: process.env, ...(overlay ? { overlay } : {}) };
}

/** Parses YAML text into a Document (comments kept); throws ConfigError on a syntax error. */
export function parseConfigText(text: string, file: string): Document {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`,
      })),
    );
  }
  return doc;
}

/** Reads a configuration file's text; a missing or unreadable file is a ConfigError saying so. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot read file';
    throw new ConfigError(file, [{ path: '', message: `${reason}; check the path given to --config` }]);
  }
}

/** Validates a parsed YAML document as the source's configuration (overlay applied, secrets substituted). */
export function configFromDocument(doc: Document, source: ConfigSource): Config {
  const tree = doc.toJS() as unknown;
  const raw = tree !== null && typeof tree === 'object' && !Array.isArray(tree) ? tree : {};
  const overlaid = source.overlay ? source.overlay(raw as Record<string, unknown>) : raw;
  return parseConfig(overlaid, {
    source: source.file,
    baseDir: dirname(resolve(source.file)),
    env: source.env,
  });
}

/** Reads a YAML file, substitutes secrets and validates it. Throws ConfigError with every problem. */
export function loadConfigFile(file: string, env: Environment = process.env): Config {
  return loadConfigSource({ file, env });
}

/** Reads and validates a configuration source. Throws ConfigError with every problem. */
export function loadConfigSource(source: ConfigSource): Config {
  return configFromDocument(parseConfigText(readConfigText(source.file), source.file), source);
}

/** Where this gateway keeps its spool, outbox and alerts (set by `parseConfig`; defaults for a config built otherwise). */
export function localPaths(config: Config): { spoolDir: string; outboxDir: string; alertsDir: string } {
  const local = config.store.kind === 'duckdb' ? config.store.path : resolve('data/balise');
  return {
    spoolDir: config.store.spoolDir ?? `${local}.spool`,
    outboxDir: config.outbox.dir ?? `${local}.outbox`,
    alertsDir: config.alerts.dir ?? `${local}.alerts`,
  };
}
