import { createHash } from 'node:crypto';
import { isSeq, type Document } from 'yaml';
import {
  ConfigError,
  configFromDocument,
  parseConfigText,
  readConfigText,
  type ConfigProblem,
  type ConfigSource,
} from '../config/load.js';
import type { Config } from '../config/schema.js';
import { BaliseError, type ErrorCode } from '../errors.js';
import type { Manifest } from '../tools/manifest.js';
import { ToolError } from '../tools/runtime.js';
import { writeFileAtomically } from './atomic-write.js';
import { refuseWhatOnlyTheFileAdds } from './guards.js';
import { PRIVACY_SWITCHES } from './switches.js';
import type { ComponentInfo, SettingsView } from './view.js';

/** What the dashboard shows in place of a secret setting written in the file. */
export const SECRET_MASK = '••••••••';

/** A secret given as `${NAME}` or `${file:PATH}` is a reference, not the secret: shown as is. */
const REFERENCE = /^\$\{[^}]+\}$/;

/** Thrown when a change cannot be applied; carries the problems by path when there are several. */
export class SettingsError extends BaliseError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly problems: ConfigProblem[] = [],
  ) {
    super(code, message);
  }

  /** `{"error": {code, message, problems?: [{path, message}]}}`: every problem, each with its path. */
  override toJSON(): {
    error: { code: string; message: string; path?: string; problems?: ConfigProblem[] };
  } {
    const { error } = super.toJSON();
    return { error: { ...error, ...(this.problems.length ? { problems: this.problems } : {}) } };
  }
}

export type { ComponentInfo, SettingsView } from './view.js';

/** Revision of a configuration text: the first 16 hex digits of its SHA-256. */
export function revisionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The file's text and YAML document; a file that cannot be read or parsed any more is config_unreadable. */
function readDocument(source: ConfigSource): { text: string; doc: Document } {
  try {
    const text = readConfigText(source.file);
    return { text, doc: parseConfigText(text, source.file) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new SettingsError(
      'config_unreadable',
      `${error.message.split('\n').join(' ')}; fix the file by hand`,
      error.problems,
    );
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Reads and changes the sites of a configuration file for the dashboard. A change is validated by
 * the same schema as the file at start (every problem reported with its path), its tools are
 * loaded and started beside the running ones, then the file is written atomically with a backup
 * and the new configuration applied — all or nothing. Comments and `${…}` references elsewhere in
 * the file are kept; server, store and admin sections are not edited here (they need a restart).
 */
export class SettingsEditor {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: ConfigSource | undefined,
    /** Prepares a validated configuration (tools loaded) and returns the switch that applies it. */
    private readonly prepare: (config: Config) => Promise<() => void>,
    private readonly manifests: () => Record<string, Manifest>,
    /** Told the sites as written after each change made here (other gateways adopt them). */
    private readonly onChange?: (sites: Record<string, unknown>[]) => void,
  ) {}

  /** The sites as written in the file, with the components and switches the forms are built from. */
  read(): SettingsView {
    const components = this.componentInfo();
    if (!this.source)
      return {
        editable: false,
        file: null,
        revision: null,
        sites: [],
        components,
        switches: PRIVACY_SWITCHES,
      };
    const { text, doc } = readDocument(this.source);
    const sites = this.rawSites(doc).map((site) => this.maskSecrets(site));
    return {
      editable: true,
      file: this.source.file,
      revision: revisionOf(text),
      sites,
      components,
      switches: PRIVACY_SWITCHES,
    };
  }

  /** Adds a site (`host` undefined) or replaces the site whose host is `host` (it may be renamed). */
  saveSite(host: string | undefined, site: unknown, revision: string | undefined): Promise<string> {
    return this.change(revision, (doc, sites) => {
      if (!isRecord(site))
        throw new SettingsError('invalid_settings', 'send {"site": {…}} with the site as an object');
      const index = host === undefined ? -1 : sites.findIndex((s) => s.host === host);
      if (host !== undefined && index < 0)
        throw new SettingsError('no_such_site', `no site ${host} in the configuration`);
      if (host === undefined && sites.some((s) => s.host === site.host))
        throw new SettingsError('site_exists', `site ${String(site.host)} exists; edit it instead`);
      const restored = this.restoreSecrets(site, index >= 0 ? sites[index]! : undefined, index, sites.length);
      refuseWhatOnlyTheFileAdds(restored, sites, index >= 0 ? index : sites.length);
      const node = doc.createNode(restored);
      if (index >= 0) doc.setIn(['sites', index], node);
      else doc.addIn(['sites'], node);
    });
  }

  /** Removes the site whose host is `host` (the last site cannot be removed: a configuration has one). */
  deleteSite(host: string, revision: string | undefined): Promise<string> {
    return this.change(revision, (doc, sites) => {
      const index = sites.findIndex((s) => s.host === host);
      if (index < 0) throw new SettingsError('no_such_site', `no site ${host} in the configuration`);
      doc.deleteIn(['sites', index]);
    });
  }

  /**
   * Adopts the sites another gateway on the same store saved (its dashboard): this file's `sites`
   * become those, the rest of the file (server, store, admin) stays; validated, written and
   * applied like a change of its own. Returns the new revision.
   */
  adoptSites(sites: Record<string, unknown>[]): Promise<string> {
    return this.change(undefined, (doc) => doc.set('sites', doc.createNode(sites)), {
      write: true,
      adopted: true,
    });
  }

  /**
   * Applies the file as it is now (edited by hand, or by another gateway sharing it): validated
   * and its tools loaded like a change, then applied; nothing is written. Returns the revision.
   */
  reload(): Promise<string> {
    return this.change(undefined, () => undefined, { write: false });
  }

  /** Runs one change at a time: check the revision, edit, validate, load tools, write, apply. */
  private change(
    revision: string | undefined,
    edit: (doc: Document, sites: Record<string, unknown>[]) => void,
    options: { write: boolean; adopted?: boolean } = { write: true },
  ): Promise<string> {
    const run = async (): Promise<string> => {
      const source = this.source;
      if (!source)
        throw new SettingsError(
          'settings_read_only',
          'this gateway was started without a configuration file; start it with --config FILE to edit settings',
        );
      if (!revision && options.write && !options.adopted)
        throw new SettingsError('revision_required', 'send the revision you read in the If-Match header');
      const { text, doc } = readDocument(source);
      if (options.write && !options.adopted && revisionOf(text) !== revision)
        throw new SettingsError(
          'settings_conflict',
          'the configuration changed since you read it; reload the settings and make your change again',
        );
      edit(doc, this.rawSites(doc));
      const next = doc.toString({ lineWidth: 0 });
      let config: Config;
      try {
        config = configFromDocument(parseConfigText(next, source.file), source);
      } catch (error) {
        if (error instanceof ConfigError)
          throw new SettingsError(
            'invalid_config',
            `the change is not valid: ${error.problems.map((p) => `${p.path || '(top)'}: ${p.message}`).join('; ')}`,
            error.problems,
          );
        throw error;
      }
      let apply: () => void;
      try {
        apply = await this.prepare(config);
      } catch (error) {
        throw new SettingsError(
          error instanceof ToolError ? 'invalid_tool' : 'not_applied',
          error instanceof Error ? error.message.split('\n')[0]! : String(error),
        );
      }
      if (options.write) await writeFileAtomically(source.file, next);
      apply();
      if (options.write && !options.adopted) this.onChange?.(this.rawSites(doc));
      return revisionOf(next);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private rawSites(doc: Document): Record<string, unknown>[] {
    const node = doc.get('sites', true);
    if (node !== undefined && !isSeq(node))
      throw new SettingsError('invalid_config', 'sites in the file is not a list; fix the file by hand');
    const tree = doc.toJS() as { sites?: unknown } | null;
    const sites = Array.isArray(tree?.sites) ? (tree.sites as unknown[]) : [];
    return sites.filter(isRecord);
  }

  private secretKeys(tool: Record<string, unknown>): string[] {
    const manifest = this.manifests()[String(tool.component)];
    return manifest
      ? Object.entries(manifest.settings)
          .filter(([, s]) => s.secret)
          .map(([k]) => k)
      : [];
  }

  private maskSecrets(site: Record<string, unknown>): Record<string, unknown> {
    if (!Array.isArray(site.tools)) return site;
    const tools = site.tools.map((tool: unknown) => {
      if (!isRecord(tool) || !isRecord(tool.settings)) return tool;
      const settings = { ...tool.settings };
      for (const key of this.secretKeys(tool))
        if (
          settings[key] !== undefined &&
          !(typeof settings[key] === 'string' && REFERENCE.test(settings[key]))
        )
          settings[key] = SECRET_MASK;
      return { ...tool, settings };
    });
    return { ...site, tools };
  }

  /** A setting sent back as SECRET_MASK keeps the value in the file (same site, tool id and key). */
  private restoreSecrets(
    site: Record<string, unknown>,
    previous: Record<string, unknown> | undefined,
    index: number,
    count: number,
  ): Record<string, unknown> {
    if (!Array.isArray(site.tools)) return site;
    const before = Array.isArray(previous?.tools) ? previous.tools.filter(isRecord) : [];
    const problems: ConfigProblem[] = [];
    const tools = site.tools.map((tool: unknown, t) => {
      if (!isRecord(tool) || !isRecord(tool.settings)) return tool;
      const settings = { ...tool.settings };
      for (const [key, value] of Object.entries(settings)) {
        if (value !== SECRET_MASK) continue;
        const old = before.find((b) => b.id === tool.id && b.component === tool.component);
        const kept = isRecord(old?.settings) ? old.settings[key] : undefined;
        if (kept === undefined)
          problems.push({
            path: `sites.${index >= 0 ? index : count}.tools.${t}.settings.${key}`,
            message: 'enter the secret (nothing is stored for this tool yet)',
          });
        else settings[key] = kept;
      }
      return { ...tool, settings };
    });
    if (problems.length)
      throw new SettingsError('invalid_config', `the change is not valid: ${problems[0]!.message}`, problems);
    return { ...site, tools };
  }

  private componentInfo(): Record<string, ComponentInfo> {
    const out: Record<string, ComponentInfo> = {};
    for (const [name, manifest] of Object.entries(this.manifests()))
      out[name] = {
        description: manifest.description ?? null,
        sunset: manifest.sunset ?? null,
        hosts: manifest.hosts.map((h) => (h.eu ? `${h.host} (EU)` : h.host)),
        settings: manifest.settings,
      };
    return out;
  }
}
