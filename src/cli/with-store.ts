import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describeStore, openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { hostedGateway } from './hosted.js';

/** Opens the configured store for a read command; says what to do when a gateway holds it. */
export async function withStore<T>(
  configPath: string,
  run: (store: Store, config: Config) => Promise<T>,
): Promise<T> {
  // In a gateway's process (a command handed over by `balise`): its own store and configuration.
  const hosted = hostedGateway();
  if (hosted) return run(hosted.store, hosted.config());
  const config = loadConfigFile(configPath);
  const store = await openStore(config).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (/lock/i.test(message)) {
      throw new Error(
        `the store ${describeStore(config)} is in use by a running gateway; stop it, or use the HTTP API (${config.server.prefix}/api/v1/)`,
      );
    }
    throw error;
  });
  try {
    await store.migrate();
    return await run(store, config);
  } finally {
    await store.close();
  }
}
