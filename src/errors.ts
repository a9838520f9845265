/** The first line of an error's message (what a log line or a CLI problem carries), never a stack. */
export function errorLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

/**
 * The one error type clients see: a stable `code`, an HTTP status and a plain message (and, for
 * validation, the failing `path`). Never a stack or an internal object. Codes: docs/errors.md.
 */
export class BaliseError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly path?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'BaliseError';
  }

  /** The JSON body sent to clients: `{"error":{"code","message","path"?}}`. */
  toJSON(): { error: { code: string; message: string; path?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.path ? { path: this.path } : {}) } };
  }
}
