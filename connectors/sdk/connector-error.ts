/**
 * The one error type connectors throw. The engine reads `retryable` (and
 * `retryAfterMs`) to decide between retrying the step per its `retry` policy and
 * failing the run; `message` and `stack` are shown in the Execution Explorer.
 */

/**
 * The second argument of `new ConnectorError(message, options)`.
 *
 * @example
 * ```ts
 * const options: ConnectorErrorOptions = { retryable: true, retryAfterMs: 5000, status: 503, code: 'HTTP_503' };
 * ```
 */
export interface ConnectorErrorOptions {
  /** `true` when trying again later may succeed (rate limits, timeouts, 5xx). Default `false`. */
  retryable?: boolean;
  /** The remote asked us to wait this long before trying again (e.g. from `Retry-After`). */
  retryAfterMs?: number;
  /** HTTP status of the remote answer, when there was one. */
  status?: number;
  /** A short machine-readable reason, e.g. `HTTP_503`, `TIMEOUT`, `channel_not_found`. */
  code?: string;
  cause?: unknown;
}

/**
 * An action failed. Throw it from `execute` with `retryable: true` for failures that
 * may go away on their own; anything else (including a non-ConnectorError) fails the step.
 * Never put a secret in the message: it is stored with the run.
 *
 * @example
 * ```ts
 * if (res.status === 429) {
 *   throw new ConnectorError('ERP rate limit reached', { retryable: true, retryAfterMs: 30_000, status: 429 });
 * }
 * throw new ConnectorError(`Customer ${id} does not exist in the ERP`, { code: 'UNKNOWN_CUSTOMER' });
 * ```
 */
export class ConnectorError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly code?: string;

  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.retryable = options.retryable === true;
    if (options.retryAfterMs !== undefined && Number.isFinite(options.retryAfterMs)) {
      this.retryAfterMs = Math.max(0, Math.round(options.retryAfterMs));
    }
    if (options.status !== undefined) this.status = options.status;
    if (options.code !== undefined) this.code = options.code;
  }

  /**
   * The shape the engine stores with a failed step (no `cause`: it may hold anything).
   *
   * @example
   * ```ts
   * step.error = err.toJSON(); // {name, message, code, status, retryable, retryAfterMs, stack}
   * ```
   */
  toJSON() {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      status: this.status,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      stack: this.stack,
    };
  }
}

/**
 * `true` for a ConnectorError, including one made by another copy of the SDK
 * (recognised by its name and a boolean `retryable`).
 *
 * @example
 * ```ts
 * catch (err) { if (isConnectorError(err) && err.retryable) scheduleRetry(err.retryAfterMs); }
 * ```
 */
export function isConnectorError(err: unknown): err is ConnectorError {
  if (err instanceof ConnectorError) return true;
  const e = err as { name?: unknown; retryable?: unknown } | null;
  return !!e && typeof e === 'object' && e.name === 'ConnectorError' && typeof e.retryable === 'boolean';
}

/**
 * Whatever was thrown, as a ConnectorError. A ConnectorError passes through; anything
 * else becomes a non-retryable one (code `UNEXPECTED`) that keeps the original stack,
 * since that is where the bug is.
 *
 * @example
 * ```ts
 * try { await adapter.execute(action, params, ctx); } catch (err) { throw toConnectorError(err); }
 * ```
 */
export function toConnectorError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  if (isConnectorError(err)) {
    const copy = new ConnectorError(err.message, {
      retryable: err.retryable,
      retryAfterMs: err.retryAfterMs,
      status: err.status,
      code: err.code,
      cause: err.cause,
    });
    if (err.stack) copy.stack = err.stack;
    return copy;
  }
  const original = err instanceof Error ? err : new Error(describeThrown(err));
  const prefix = original.name && original.name !== 'Error' ? `${original.name}: ` : '';
  const wrapped = new ConnectorError(prefix + (original.message || 'unknown error'), {
    code: 'UNEXPECTED',
    cause: original,
  });
  if (original.stack) wrapped.stack = original.stack;
  return wrapped;
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return `non-error thrown: ${JSON.stringify(value)}`;
  } catch {
    return `non-error thrown: ${String(value)}`;
  }
}
