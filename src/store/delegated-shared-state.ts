import type { SharedState } from './store.js';

/**
 * The `SharedState` role of a store, each call handed to the store's own implementation of it
 * (`shared`): the stores keep salts, secrets, revocations and published settings in their own
 * tables, and this is the one place that says so.
 */
export abstract class DelegatedSharedState implements SharedState {
  protected abstract readonly shared: SharedState;

  ensureSalt(day: string, keepFrom: string): Promise<Buffer> {
    return this.shared.ensureSalt(day, keepFrom);
  }

  ensureSecret(name: string): Promise<Buffer> {
    return this.shared.ensureSecret(name);
  }

  revokeSession(nonce: string, expires: number): Promise<void> {
    return this.shared.revokeSession(nonce, expires);
  }

  revokedSessions(now: number): Promise<Map<string, number>> {
    return this.shared.revokedSessions(now);
  }

  publishSettings(value: string): Promise<void> {
    return this.shared.publishSettings(value);
  }

  publishedSettings(): Promise<string[]> {
    return this.shared.publishedSettings();
  }
}
