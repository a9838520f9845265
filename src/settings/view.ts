// The settings API's answer, as the gateway writes it and the dashboard reads it: one set of
// types for both (the dashboard imports this file's types only; it has no imports of its own).

/** One setting a component declares in its manifest. */
export interface SettingSpec {
  required: boolean;
  secret: boolean;
  description?: string | undefined;
}

/** A component as the settings form needs it: what it is and the settings its manifest declares. */
export interface ComponentInfo {
  description: string | null;
  sunset: string | null;
  hosts: string[];
  settings: Record<string, SettingSpec>;
}

/** One privacy switch as the dashboard shows it: its values, the default and a one-line explanation. */
export interface SwitchInfo {
  key: 'profile' | 'query' | 'ip' | 'userAgent' | 'referrer' | 'dlp' | 'browserRequests';
  values: readonly string[];
  default: string;
  explanation: string;
}

/** How a running tool fares: stopped for good (with why), or its counters. */
export interface ToolStatus {
  disabled: string | null;
  events: number;
  deliveries: number;
  errors: number;
  permissionDenied: number;
}

/** The editable part of the configuration, as the dashboard reads it. */
export interface SettingsView {
  /** False when the gateway runs without a configuration file (nothing to write to). */
  editable: boolean;
  file: string | null;
  /** Changes must send it back (If-Match); a change made meanwhile is refused, never overwritten. */
  revision: string | null;
  /** The sites as written in the file (defaults not filled in; secrets masked, references kept). */
  sites: Record<string, unknown>[];
  components: Record<string, ComponentInfo>;
  switches: readonly SwitchInfo[];
  /** The running tools, by `site/tool` (absent when the gateway has none). */
  toolStatus?: Record<string, ToolStatus>;
}
