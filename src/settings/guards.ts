import type { ConfigProblem } from '../config/load.js';
import { BUILTIN_COMPONENTS } from '../tools/runtime.js';
import { SettingsError } from './editor.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * What only the configuration file may add, refused in a settings change: a component that is
 * not built in (code run by the gateway: introduced in the file by whoever deploys it, then
 * reused from the dashboard — so a dashboard password does not give code execution on the
 * server), a tool's `allowHosts` and `permissions`, and a tracker rules file.
 */
export function refuseWhatOnlyTheFileAdds(
  site: Record<string, unknown>,
  sites: Record<string, unknown>[],
  index: number,
): void {
  const known = new Set(Object.keys(BUILTIN_COMPONENTS));
  for (const other of sites)
    if (Array.isArray(other.tools))
      for (const tool of other.tools)
        if (isRecord(tool) && typeof tool.component === 'string') known.add(tool.component);
  const problems: ConfigProblem[] = [];
  (Array.isArray(site.tools) ? site.tools : []).forEach((tool: unknown, t) => {
    if (isRecord(tool) && typeof tool.component === 'string' && !known.has(tool.component))
      problems.push({
        path: `sites.${index}.tools.${t}.component`,
        message: `${tool.component} is not a built-in component (${[...Object.keys(BUILTIN_COMPONENTS)].join(', ')}) nor one the configuration file already uses; add it in the file first`,
      });
  });
  if (problems.length) throw new SettingsError('component_not_allowed', problems[0]!.message, problems);
  // allowHosts opens private addresses and plain http to a tool (SSRF), permissions open what a
  // component may do: only the file may add either.
  const before = sites[index];
  const inFile = (toolId: unknown, key: string): Set<unknown> => {
    const tools: unknown[] = before && Array.isArray(before.tools) ? (before.tools as unknown[]) : [];
    const tool = tools.find((t) => isRecord(t) && t.id === toolId);
    return new Set(isRecord(tool) && Array.isArray(tool[key]) ? (tool[key] as unknown[]) : []);
  };
  const GUARDED = [
    ['allowHosts', 'host_not_allowed', 'hosts that may be private or plain http are added in the file only'],
    ['permissions', 'permission_not_allowed', 'what a component may do is granted in the file only'],
  ] as const;
  for (const [key, code, why] of GUARDED) {
    (Array.isArray(site.tools) ? site.tools : []).forEach((tool: unknown, t) => {
      if (!isRecord(tool) || !Array.isArray(tool[key])) return;
      const known = inFile(tool.id, key);
      const added = (tool[key] as unknown[]).find((value) => !known.has(value));
      if (added !== undefined)
        problems.push({
          path: `sites.${index}.tools.${t}.${key}`,
          message: `${JSON.stringify(added)} is not in this tool's ${key} in the configuration file; ${why}`,
        });
    });
    if (problems.length) throw new SettingsError(code, problems[0]!.message, problems);
  }
  // The same for a rules file: the gateway reads it, so a new path comes through the file only.
  const rules = isRecord(site.privacy) ? site.privacy.trackerRules : undefined;
  const knownRules = new Set(
    sites.map((other) => (isRecord(other.privacy) ? other.privacy.trackerRules : undefined)),
  );
  if (rules !== undefined && !knownRules.has(rules)) {
    const problem = {
      path: `sites.${index}.privacy.trackerRules`,
      message:
        'a tracker rules file the configuration file does not already use must be added in the file first',
    };
    throw new SettingsError('path_not_allowed', problem.message, [problem]);
  }
}
