import type { Config } from './schema.js';

/**
 * The configuration in force. Settings saved from the dashboard replace it without a restart;
 * readers take `current` at each request. Server, store and admin sections are read once at
 * start (a change to them needs a restart), sites and their tools are live.
 */
export class LiveConfig {
  constructor(private config: Config) {}

  /** The configuration in force now. */
  get current(): Config {
    return this.config;
  }

  /** Puts a new, already validated and applied configuration in force. */
  replace(config: Config): void {
    this.config = config;
  }
}
