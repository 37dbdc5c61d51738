/** How long to wait before a step's next attempt. */
import type { RetryPolicy } from '../workflows/workflow-file';

/** No single wait is longer than this unless the policy sets its own cap. */
export const DEFAULT_MAX_DELAY_MS = 15 * 60 * 1000;
/**
 * The longest `Retry-After` a step waits for: a day, the most a policy's `maxDelayMs` may
 * ask. A remote side asking for more (a header of a billion seconds would park the run for
 * decades) fails the step with that reason instead (run-state.ts).
 */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** Whether a server's `Retry-After` asks for more than a step waits. */
export const retryAfterTooLong = (retryAfterMs?: number) => (retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS;

/**
 * Delay after attempt `failedAttempt` (1-based) failed. A server's `Retry-After` wins
 * when it asks for longer. Up to 10% jitter spreads retries of many runs hitting the
 * same outage, so they do not all come back in the same second.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  failedAttempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const base = policy.initialDelayMs;
  const raw =
    policy.backoff === 'constant'
      ? base
      : policy.backoff === 'linear'
        ? base * failedAttempt
        : base * 2 ** (failedAttempt - 1);
  const cap = policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const jittered = Math.min(raw, cap) * (1 + 0.1 * random());
  return Math.round(Math.min(Math.max(jittered, retryAfterMs ?? 0), Math.max(cap, retryAfterMs ?? 0)));
}
