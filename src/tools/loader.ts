import type { Manager } from '@managed-components/types';
import type { SiteConfig, ToolConfig } from '../config/schema.js';
import type { TrackerList } from '../privacy/trackers.js';
import { findBundle } from './bundle.js';
import { BUILTIN_COMPONENTS, missingSettings, ToolError, type ComponentModule } from './components.js';
import { ToolInstance } from './instance.js';
import { readManifest, type Manifest, type Permission, type ReadManifest } from './manifest.js';
import { Sandbox, SandboxError, type SandboxHandlers } from './sandbox/host.js';
import { withTimeout } from './timeout.js';

/** What loading a tool needs of the runtime. */
export interface LoadDeps {
  baseDir: string;
  /** Modules run in the gateway's own thread besides the built-ins (tests, embedding). */
  components: Record<string, ComponentModule>;
  hookTimeoutMs: number;
  maxBodyBytes: number;
  /** `outbox.allowHosts`. */
  gatewayHosts: readonly string[];
  warn: (line: string) => void;
  /** The Manager of a component run in the gateway's thread. */
  manager: (instance: ToolInstance) => Manager;
  /** What a sandboxed component's thread asks of the gateway, for one tool. */
  handlers: (instance: () => ToolInstance) => SandboxHandlers;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * Loads and starts one tool. A built-in (or embedded) component runs in the gateway's thread; any
 * other — a path or an installed package, Balise's shape or a Cloudflare bundle with its
 * manifest.json — runs in a sandbox. The manifest is read (manifest.json before any of the code
 * runs; else the module's `manifest` export, its top-level code run with no capability), the
 * permissions granted checked against what it requires, then the component started with the
 * Manager those permissions allow. Throws a ToolError naming the tool and what to fix.
 */
export async function loadTool(
  site: SiteConfig,
  tool: ToolConfig,
  trackers: TrackerList,
  deps: LoadDeps,
): Promise<ToolInstance> {
  const where = `sites[${site.host}].tools[${tool.id}]`;
  const module = deps.components[tool.component] ?? BUILTIN_COMPONENTS[tool.component];
  let read: ReadManifest | undefined;
  let sandbox: Sandbox | null = null;
  let instance: ToolInstance | undefined;
  const invalid = (what: string, error: unknown) =>
    new ToolError(`${where}: ${what} is invalid at ${messageOf(error)}; the component was not run`);
  try {
    if (module) {
      try {
        read = readManifest(module.manifest);
      } catch (error) {
        throw invalid(`the manifest of ${tool.component}`, error);
      }
    } else {
      let bundle;
      try {
        bundle = findBundle(tool.component, deps.baseDir);
      } catch (error) {
        throw new ToolError(
          `${where}: component ${tool.component} cannot be loaded (${messageOf(error)}); use a built-in (${Object.keys(BUILTIN_COMPONENTS).join(', ')}), a path, or an installed package`,
        );
      }
      if (bundle.manifestFile !== undefined)
        try {
          read = readManifest(bundle.manifestFile);
        } catch (error) {
          throw invalid(bundle.manifestPath ?? 'manifest.json', error);
        }
      try {
        const opened = await Sandbox.open(
          {
            source: bundle.source,
            filename: bundle.path,
            name: `${site.host}/${tool.id}`,
            hookTimeoutMs: deps.hookTimeoutMs,
          },
          { memoryMb: tool.memoryMb, hookTimeoutMs: deps.hookTimeoutMs },
          deps.handlers(() => instance!),
        );
        sandbox = opened.sandbox;
        if (!read) {
          if (opened.manifest === null)
            throw new ToolError(
              `${where}: ${tool.component} has no manifest.json beside it nor a manifest export`,
            );
          try {
            read = readManifest(opened.manifest);
          } catch (error) {
            throw invalid(`the manifest of ${tool.component}`, error);
          }
        }
      } catch (error) {
        if (error instanceof SandboxError)
          throw new ToolError(`${where}: ${tool.component} cannot be loaded: ${error.message}`);
        throw error;
      }
    }
    const granted = tool.permissions ?? read.manifest.permissions;
    const manifest = withHosts(read.manifest, tool);
    check(where, read, granted, tool, deps.warn);
    instance = new ToolInstance(
      site,
      tool,
      manifest,
      trackers,
      deps.maxBodyBytes,
      module?.seal,
      deps.gatewayHosts,
      granted,
    );
    instance.sandbox = sandbox;
    // Not for an embedded module of the same name, nor a component loaded from a path or package.
    instance.builtin = module !== undefined && module === BUILTIN_COMPONENTS[tool.component];
    if (
      tool.region === 'eu' &&
      manifest.hosts.length > 0 &&
      !manifest.hosts.some((h) => h.eu) &&
      instance.operatorHosts.length === 0 &&
      instance.settingsHosts.length === 0
    )
      throw new ToolError(
        `${where}: ${manifest.name} has no EU endpoint; region: eu cannot be met (use region: any)`,
      );
    if (
      instance.can('server_network_requests') &&
      manifest.hosts.length === 0 &&
      instance.operatorHosts.length === 0 &&
      instance.settingsHosts.length === 0
    )
      deps.warn(
        `${where}: ${manifest.name} names no host it may send to: every request will be refused; list them in hosts`,
      );
    if (manifest.sunset) deps.warn(`${where}: ${manifest.name} is legacy — ${manifest.sunset}`);
    try {
      if (sandbox) await sandbox.start({ ...tool.settings }, [...instance.granted]);
      else {
        const ready = instance;
        await withTimeout(
          () => module!.default(deps.manager(ready), { ...tool.settings }),
          deps.hookTimeoutMs,
        );
      }
    } catch (error) {
      instance.stats.errors++;
      throw new ToolError(`${where}: ${manifest.name} failed to start: ${messageOf(error)}`);
    }
    return instance;
  } catch (error) {
    await sandbox?.close();
    throw error;
  }
}

/** The manifest with the hosts the tool's configuration adds (`tools[].hosts`). */
function withHosts(manifest: Manifest, tool: ToolConfig): Manifest {
  if (tool.hosts.length === 0) return manifest;
  const added = tool.hosts.map((h) => (typeof h === 'string' ? { host: h, eu: false } : h));
  return { ...manifest, hosts: [...manifest.hosts, ...added] };
}

/** Required settings and permissions; a warning for permissions granted beyond the manifest. */
function check(
  where: string,
  read: ReadManifest,
  granted: readonly Permission[],
  tool: ToolConfig,
  warn: (line: string) => void,
): void {
  const name = read.manifest.name;
  const missing = missingSettings(read.manifest, tool.settings)[0];
  if (missing) throw new ToolError(`${where}: settings.${missing} is required by ${name}`);
  const lacking = read.required.find((permission) => !granted.includes(permission));
  if (lacking)
    throw new ToolError(
      `${where}: ${name} requires the ${lacking} permission; add it to permissions (or leave permissions out to grant what the manifest declares)`,
    );
  const beyond = granted.filter((permission) => !read.manifest.permissions.includes(permission));
  if (beyond.length > 0)
    warn(`${where}: granted ${beyond.join(', ')}, which the manifest of ${name} does not declare`);
}

/**
 * A component's manifest as `serve` reads it, for reports: a built-in's, a manifest.json's
 * (no code run), else the module's own export (read in a sandbox, closed at once); null when
 * it cannot be read.
 */
export async function componentManifest(spec: string, baseDir: string): Promise<Manifest | null> {
  try {
    const module = BUILTIN_COMPONENTS[spec];
    if (module) return readManifest(module.manifest).manifest;
    const bundle = findBundle(spec, baseDir);
    if (bundle.manifestFile !== undefined) return readManifest(bundle.manifestFile).manifest;
    const ignore = () => undefined;
    const { sandbox, manifest } = await Sandbox.open(
      { source: bundle.source, filename: bundle.path, name: spec, hookTimeoutMs: 2000 },
      { memoryMb: 64, hookTimeoutMs: 2000 },
      {
        onFetch: () => Promise.resolve({ status: 403, body: '{}' }),
        onFault: ignore,
        onListen: ignore,
        onDisabled: ignore,
      },
    );
    await sandbox.close();
    return readManifest(manifest).manifest;
  } catch {
    return null;
  }
}
