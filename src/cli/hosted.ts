import type { Config } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { Outbox } from '../tools/outbox.js';

/** What a running gateway lends the commands it runs for `balise` (its store, config and outbox). */
export interface HostedGateway {
  store: Store;
  /** The configuration in force (settings changes replace it). */
  config(): Config;
  outbox: Outbox;
}

let hosted: HostedGateway | null = null;

/** Called once by `balise serve`: commands run in this process use the gateway's own parts. */
export function hostCommands(gateway: HostedGateway): void {
  hosted = gateway;
}

/** The gateway this process runs, when commands are handed to it; null in a plain CLI process. */
export function hostedGateway(): HostedGateway | null {
  return hosted;
}
