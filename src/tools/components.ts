import type { ComponentSettings, Manager } from '@managed-components/types';
import * as ga4 from './builtins/ga4.js';
import * as matomo from './builtins/matomo.js';
import * as meta from './builtins/meta.js';
import * as ua from './builtins/ua.js';
import * as webhook from './builtins/webhook.js';
import type { OutgoingRequest } from './egress.js';
import type { Manifest } from './manifest.js';

/** A Managed Component module: its default export and its manifest. */
export interface ComponentModule {
  default: (manager: Manager, settings: ComponentSettings) => void | Promise<void>;
  manifest: unknown;
  /**
   * Balise extension: re-makes the headers the manifest's `batch.vary` names (e.g. a signature)
   * of a request as it is sent — alone or as a batch. Only those headers are taken from it.
   */
  seal?: (request: OutgoingRequest, settings: ComponentSettings) => OutgoingRequest;
}

/** Built-in components by the name used in `tools[].component`. */
export const BUILTIN_COMPONENTS: Record<string, ComponentModule> = {
  ga4,
  meta,
  matomo,
  ua,
  webhook,
};

/** The settings a manifest requires that a tool's config leaves out or empty. */
export function missingSettings(manifest: Manifest, settings: Record<string, unknown>): string[] {
  return Object.entries(manifest.settings)
    .filter(([name, spec]) => spec.required && (settings[name] === undefined || settings[name] === ''))
    .map(([name]) => name);
}

/** A component or tool that cannot start, with what to fix. */
export class ToolError extends Error {}
