import type { Config } from './config/schema.js';
import type { ConfigSource } from './config/load.js';
import { createGateway, type Gateway } from './gateway.js';

/**
 * Starts a gateway and listens; the only place with process-level concerns. SIGTERM/SIGINT
 * stop accepting, flush every accepted event to the store and exit.
 */
export async function serve(
  config: Config,
  options: {
    log?: (line: string) => void;
    handleSignals?: boolean;
    baseDir?: string;
    /** The configuration file, so dashboard settings can be written and applied. */
    source?: ConfigSource;
  } = {},
): Promise<{ gateway: Gateway; url: string }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const gateway = await createGateway(config, {
    logError: log,
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    ...(options.source ? { source: options.source } : {}),
  });
  if (gateway.outbox.pendingCount > 0)
    log(`outbox: ${gateway.outbox.pendingCount} deliveries pending from a previous run`);
  if (gateway.replayed > 0) log(`replayed ${gateway.replayed} spooled events into the store`);
  const address = await gateway.app.listen({ host: config.server.host, port: config.server.port });
  if (options.handleSignals !== false) {
    const stop = (signal: string) => {
      log(`${signal}: flushing and stopping`);
      gateway.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log(`stopped with an error: ${error instanceof Error ? error.message : String(error)}`);
          process.exit(1);
        },
      );
    };
    // SIGHUP: apply the configuration file as it is now (sites, privacy, tools), like a settings change.
    if (options.source)
      process.on('SIGHUP', () => {
        gateway.settings.reload().then(
          (revision) => log(`SIGHUP: configuration ${revision} applied`),
          (error: unknown) =>
            log(
              `SIGHUP: configuration not applied, the running one is kept: ${error instanceof Error ? error.message : String(error)}`,
            ),
        );
      });
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  }
  return { gateway, url: address };
}
