import { statSync } from 'node:fs';
import { errorLine } from '../errors.js';
import type { SharedState } from '../store/store.js';
import type { SettingsEditor } from './editor.js';

/** What a gateway publishes when its dashboard saves sites. */
interface Published {
  at: number;
  node: string;
  sites: Record<string, unknown>[];
}

/**
 * Shares the dashboard's site settings between the gateways of one store: a change saved on one
 * is published in the store, and every other gateway adopts it within seconds — its own file's
 * `sites` replaced (the rest of its file kept), validated and applied as a change of its own. A
 * gateway adopts what was published after its file was last written, so one that was down
 * catches up when it starts.
 */
export class SettingsSync {
  private last: number;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly store: Pick<SharedState, 'publishSettings' | 'publishedSettings'>,
    private readonly node: string,
    private readonly file: string,
    private readonly editor: () => SettingsEditor,
    private readonly log: (line: string) => void,
    private readonly intervalMs = 5_000,
  ) {
    this.last = statSync(file).mtimeMs;
  }

  /** Publishes the sites this gateway's dashboard just saved. */
  publish(sites: Record<string, unknown>[]): void {
    const at = Date.now();
    this.last = at;
    const value: Published = { at, node: this.node, sites };
    this.store
      .publishSettings(JSON.stringify(value))
      .catch((error: unknown) =>
        this.log(
          `settings_not_shared: ${errorLine(error)}; other gateways keep their sites until the next change`,
        ),
      );
  }

  /** Looks for newer settings at once, then every few seconds. */
  start(): Promise<void> {
    const first = this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
    return first;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const values = (await this.store.publishedSettings()).map((v) => JSON.parse(v) as Published);
      const newest = values.sort((a, b) => b.at - a.at)[0];
      if (!newest || newest.at <= this.last) return;
      this.last = newest.at;
      if (newest.node === this.node) return;
      const revision = await this.editor().adoptSites(newest.sites);
      this.log(`settings: adopted the sites saved on gateway ${newest.node} (revision ${revision})`);
    } catch (error) {
      this.log(`settings_not_adopted: ${errorLine(error)}; this gateway keeps its sites`);
    } finally {
      this.polling = false;
    }
  }
}
