import { Worker } from 'node:worker_threads';
import type {
  HostMessage,
  SandboxClient,
  SandboxEffects,
  SandboxFault,
  SandboxStart,
  WorkerMessage,
} from './protocol.js';

/** What a sandbox asks of the gateway. */
export interface SandboxHandlers {
  /** A request the component made (dispatch: the event it belongs to, null outside one). */
  onFetch(
    dispatch: number | null,
    request: { url: string; method: string; headers: Record<string, string>; body: string | null },
  ): Promise<{ status: number; body: string }>;
  /** A fault outside any call: a rejection nobody awaited, an error in a timer. */
  onFault(fault: SandboxFault): void;
  /** The component listens to a new event type. */
  onListen(type: string): void;
  /** The sandbox stopped for good (the tool is disabled), with the reason. */
  onDisabled(reason: string): void;
}

/** Limits of one sandbox. */
export interface SandboxLimits {
  /** Heap of the component's thread (MB). */
  memoryMb: number;
  hookTimeoutMs: number;
}

/** A component that cannot be loaded or started in its sandbox. */
export class SandboxError extends Error {}

/** How long past its hook time limit a worker may stay silent before it is stopped. */
const GRACE_MS = 1000;

/** The answer of one event: what the component asked of the browser, and its faults. */
export interface SandboxAnswer {
  effects: SandboxEffects;
  faults: SandboxFault[];
}

function newWorker(start: SandboxStart, limits: SandboxLimits): Worker {
  const options = {
    workerData: start,
    execArgv: ['--experimental-vm-modules', '--no-warnings'],
    resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
    stdout: true,
    stderr: true,
  };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), options);
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * One component in its own worker thread (memory-limited, stopped when it does not answer) and
 * `node:vm` context (only the facade its permissions allow). Loading runs the bundle's top-level
 * code with no capability at all; `start` hands it its Manager.
 */
export class Sandbox {
  private reason: string | null = null;
  private readonly pending = new Map<number, (answer: SandboxAnswer) => void>();
  private readonly waiting = new Map<string, (message: WorkerMessage) => void>();
  private seq = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly limits: SandboxLimits,
    private readonly handlers: SandboxHandlers,
  ) {
    // The thread's own output (never the component's: its console writes nowhere) is not kept.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.on('message', (message: WorkerMessage) => this.receive(message));
    worker.on('error', (error: Error & { code?: string }) =>
      this.disable(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `ran out of its ${limits.memoryMb} MB of memory`
          : `failed: ${error.message.slice(0, 200)}`,
      ),
    );
    worker.on('exit', () => this.disable('its thread stopped'));
  }

  /** Loads a bundle; resolves with the sandbox and the manifest the module exports (if any). */
  static async open(
    start: SandboxStart,
    limits: SandboxLimits,
    handlers: SandboxHandlers,
  ): Promise<{ sandbox: Sandbox; manifest: unknown }> {
    const sandbox = new Sandbox(newWorker(start, limits), limits, handlers);
    const loaded = await sandbox.expect('loaded');
    if (loaded.op !== 'loaded' || loaded.error !== undefined) {
      await sandbox.close();
      throw new SandboxError(loaded.op === 'loaded' ? (loaded.error ?? '') : 'did not load');
    }
    return { sandbox, manifest: loaded.manifest };
  }

  /** Why the sandbox stopped for good, or null while it runs. */
  get disabled(): string | null {
    return this.reason;
  }

  /** Calls the component's function with its Manager and settings. */
  async start(settings: Record<string, unknown>, permissions: readonly string[]): Promise<void> {
    this.post({ op: 'start', settings, permissions: [...permissions] });
    const started = await this.expect('started');
    if (started.op !== 'started') throw new SandboxError('did not start');
    if (started.error !== undefined) throw new SandboxError(started.error);
  }

  /** Runs the listeners of one event; null when the sandbox is disabled. */
  dispatch(
    id: number,
    type: string,
    name: string | undefined,
    payload: Record<string, unknown>,
    client: SandboxClient,
  ): Promise<SandboxAnswer> | null {
    if (this.reason !== null) return null;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.disable(this.silence()), this.limits.hookTimeoutMs + GRACE_MS);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.post({ op: 'dispatch', id, type, ...(name !== undefined ? { name } : {}), payload, client });
    });
  }

  /** A new dispatch number. */
  nextId(): number {
    return ++this.seq;
  }

  /**
   * Stops the thread once the events it is running are answered (at most the hook time limit
   * plus 1 s): a configuration reload never leaves an event without its deliveries.
   */
  async close(): Promise<void> {
    if (this.reason !== null) return;
    const deadline = Date.now() + this.limits.hookTimeoutMs + GRACE_MS;
    while (this.pending.size > 0 && this.reason === null && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    if (this.reason !== null) return;
    this.reason = 'closed';
    this.answerPending('closed');
    await this.worker.terminate();
  }

  private silence(): string {
    return `did not answer within ${this.limits.hookTimeoutMs + GRACE_MS} ms (a listener that never yields, such as a synchronous loop)`;
  }

  private post(message: HostMessage): void {
    if (this.reason === null) this.worker.postMessage(message);
  }

  /** The next message of one kind, or the reason the sandbox stopped (as an error). */
  private expect(op: 'loaded' | 'started'): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.disable(this.silence()), this.limits.hookTimeoutMs + GRACE_MS);
      this.waiting.set(op, (message) => {
        clearTimeout(timer);
        this.waiting.delete(op);
        if (message.op === op) resolve(message);
        else reject(new SandboxError(this.reason ?? 'stopped'));
      });
    });
  }

  private receive(message: WorkerMessage): void {
    switch (message.op) {
      case 'loaded':
      case 'started':
        this.waiting.get(message.op)?.(message);
        return;
      case 'listen':
        this.handlers.onListen(message.type);
        return;
      case 'fault':
        this.handlers.onFault(message.fault);
        return;
      case 'done': {
        const resolve = this.pending.get(message.id);
        this.pending.delete(message.id);
        resolve?.({ effects: message.effects, faults: message.faults });
        return;
      }
      case 'fetch': {
        const { call, dispatch, url, method, headers, body } = message;
        this.handlers
          .onFetch(dispatch, { url, method, headers, body })
          .catch((error: unknown) => ({
            status: 500,
            body: JSON.stringify({ error: error instanceof Error ? error.message : String(error) }),
          }))
          .then(
            (answer) => this.post({ op: 'fetched', call, ...answer }),
            () => undefined,
          );
      }
    }
  }

  private disable(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    void this.worker.terminate();
    this.answerPending(reason);
    this.handlers.onDisabled(reason);
  }

  /** Answers every waiting call with the reason the sandbox stopped. */
  private answerPending(reason: string): void {
    const stopped = { op: 'fault' as const, fault: { kind: 'error' as const, message: reason } };
    for (const resolve of this.waiting.values()) resolve(stopped);
    for (const resolve of this.pending.values())
      resolve({
        effects: { fetch: [], execute: [], refusedBrowserRequests: 0 },
        faults: [{ kind: 'error', message: reason }],
      });
    this.pending.clear();
  }
}
