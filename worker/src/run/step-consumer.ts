/**
 * The Queue consumer: executes action attempts. Steps of one batch run concurrently.
 * Per message: ask the run object whether the attempt is still wanted (a redelivered
 * message for a finished attempt stops here, before any side effect), resolve the
 * step's secrets, call the connector within the attempt's time limit, scrub the result
 * of every form of those secrets, report it, then ack. The report hands back the run's
 * next ready attempt already claimed, and the same lane executes it at once (no Queue
 * round trip, no claim), and so on along the run. Infrastructure failures retry the
 * message; the run object deduplicates by attempt id, records a repeated delivery as a
 * redelivery, and the connector gets the same idempotency key. A continued attempt has no
 * message: if its lane dies, the run object re-sends it at its deadline.
 */
import { depthIssue } from '../lib/json-limits';
import {
  ConnectorError,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  isConnectorError,
  runAction,
  settingsFor,
} from '../../../connectors';
import { createDb } from '../db/client';
import { forEachLimited } from '../lib/limited';
import type { Env } from '../env';
import { createSecretResolver } from '../secrets/resolver';
import { ABANDON_AFTER_MS } from './attempt-deadlines';
import { Redactor } from '../secrets/redactor';
import { SecretError } from '../secrets/secret-error';
import { fillSecrets } from './secret-markers';
import { runStub, runStubOrNull } from '../triggers/start-run';
import { StepMessage, type StepError, type StepResult } from './step-message';

/**
 * A lane continues a run's next attempts only this long into an invocation (a consumer
 * invocation has a wall-time limit); later ones go through the Queue.
 */
const CONTINUE_FOR_MS = 60_000;

/** Backoff for messages whose processing failed for infrastructure reasons. */
function redeliveryDelaySeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1));
}

export function allowPrivateNetwork(env: Env): boolean {
  // Local dev and tests talk to stub servers on loopback; production must not reach private ranges.
  return env.ENVIRONMENT === 'development' || env.ENVIRONMENT === 'test' || env.ALLOW_PRIVATE_NETWORK === 'true';
}

function describeError(e: unknown): StepError {
  if (isConnectorError(e)) {
    return {
      message: e.message,
      stack: e.stack,
      retryable: e.retryable,
      retryAfterMs: e.retryAfterMs,
      status: e.status,
      code: e.code,
    };
  }
  if (e instanceof SecretError) return { message: e.message, stack: e.stack, retryable: false, code: e.code };
  return {
    message: e instanceof Error ? e.message : String(e),
    stack: e instanceof Error ? e.stack : undefined,
    retryable: false,
  };
}

/**
 * Resolves with `work`, or rejects with a retryable TIMEOUT once the attempt's limit plus
 * ABANDON_AFTER_MS has passed: a connector that ignores `signal` cannot hold the attempt
 * (its promise is left behind; the run object goes on with this result).
 */
function withinLimit<T>(work: Promise<T>, limitMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const abandoned = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConnectorError(`The step did not finish within its time limit of ${limitMs} ms`, {
            retryable: true,
            code: 'TIMEOUT',
          }),
        ),
      limitMs + ABANDON_AFTER_MS,
    );
  });
  return Promise.race([work, abandoned]).finally(() => {
    if (timer) clearTimeout(timer);
  });
}

/**
 * Executes one attempt and returns its scrubbed result. Never throws for connector or
 * secret errors. The attempt's time limit counts from here: `signal` aborts when it
 * passes, and the attempt is given up shortly after if the connector ignores that.
 */
export async function executeAttempt(env: Env, msg: StepMessage): Promise<StepResult> {
  const startedAt = Date.now();
  const limitMs = msg.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(limitMs);
  let redactor = Redactor.none;
  let result: StepResult;
  try {
    const output = await withinLimit(
      (async () => {
        const resolved = await createSecretResolver(env, createDb(env.DB)).resolveForStep(
          { id: msg.tenantId, slug: msg.tenantSlug },
          msg.secrets,
          { stepId: msg.stepId },
        );
        redactor = resolved.redactor;
        const params = fillSecrets(msg.params, resolved.values, msg.secretNonce);
        return runAction(msg.connector, msg.action, params, {
          tenantId: msg.tenantId,
          runId: msg.runId,
          stepId: msg.stepId,
          attempt: msg.attempt,
          idempotencyKey: msg.idempotencyKey,
          secrets: resolved.values,
          settings: settingsFor(msg.connector, env),
          allowPrivateNetwork: allowPrivateNetwork(env),
          signal,
        });
      })(),
      limitMs,
    );
    // A remote system's answer is input too: one nested past the limit would overflow what
    // scrubs, records and templates it, and a crash here would send the call again.
    const deep = depthIssue(output, ['output']);
    result = deep
      ? {
          ok: false,
          error: { message: `The action's ${deep.path}: ${deep.message}`, retryable: false, code: 'OUTPUT_TOO_DEEP' },
          startedAt,
          finishedAt: Date.now(),
        }
      : { ok: true, output: output ?? null, startedAt, finishedAt: Date.now() };
  } catch (e) {
    result = { ok: false, error: describeError(e), startedAt, finishedAt: Date.now() };
  }
  // Whatever the step produced leaves here scrubbed: outputs, messages, stacks.
  return redactor.scrub(result) as StepResult;
}

/** Executes a delivered message's attempt; returns the run's next attempt, claimed, if the report handed one back. */
async function handle(env: Env, message: Message<unknown>, take: () => number): Promise<StepMessage | undefined> {
  const parsed = StepMessage.safeParse(message.body);
  if (!parsed.success) {
    // Nothing can run it and retrying will not fix it.
    console.error(JSON.stringify({ level: 'error', message: 'malformed step message dropped', id: message.id }));
    message.ack();
    return undefined;
  }
  const msg = parsed.data;
  const run = runStubOrNull(env, msg.runId);
  if (!run) {
    console.error(JSON.stringify({ level: 'error', message: 'step message for no run dropped', id: message.id }));
    message.ack();
    return undefined;
  }
  try {
    if (!(await run.claim(msg.attemptId, msg.send))) {
      message.ack();
      return undefined;
    }
    const result = await executeAttempt(env, msg);
    const { next } = await run.report(msg.attemptId, result, take());
    message.ack();
    return next[0];
  } catch (e) {
    console.error(
      JSON.stringify({
        level: 'warn',
        message: 'step message will be redelivered',
        runId: msg.runId,
        stepId: msg.stepId,
        attempt: msg.attempt,
        error: String(e),
      }),
    );
    message.retry({ delaySeconds: redeliveryDelaySeconds(message.attempts) });
    return undefined;
  }
}

/** Executes an attempt a report handed back (already claimed); returns the next one, if any. */
async function continueAttempt(env: Env, msg: StepMessage, take: () => number): Promise<StepMessage | undefined> {
  try {
    const result = await executeAttempt(env, msg);
    const { next } = await runStub(env, msg.runId).report(msg.attemptId, result, take());
    return next[0];
  } catch (e) {
    // No message to retry: the run object re-sends the attempt at its deadline (same idempotency key).
    console.error(
      JSON.stringify({
        level: 'warn',
        message: 'continued step not reported; the run re-sends it at its deadline',
        runId: msg.runId,
        stepId: msg.stepId,
        attempt: msg.attempt,
        error: String(e),
      }),
    );
    return undefined;
  }
}

/** How many steps of one batch execute at once: `EXECUTION_BATCH_SIZE` (default 10). */
export function executionBatchSize(env: Env): number {
  const n = Number(env.EXECUTION_BATCH_SIZE ?? 10);
  return Number.isInteger(n) && n > 0 ? n : 10;
}

/**
 * Runs a batch's steps concurrently, at most `EXECUTION_BATCH_SIZE` at a time. The
 * Queue's `max_batch_size` (wrangler.toml) decides how many messages one invocation
 * gets; keep the two equal, as shipped, unless a connector needs gentler concurrency.
 */
export async function consumeSteps(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const began = Date.now();
  const take = () => (Date.now() - began < CONTINUE_FOR_MS ? 1 : 0);
  await forEachLimited(batch.messages, executionBatchSize(env), async (m) => {
    let next = await handle(env, m, take);
    while (next) next = await continueAttempt(env, next, take);
  });
}

/**
 * Messages that exhausted the queue's own retries land here: the attempt is reported
 * failed, so the run ends failed with the reason instead of waiting forever.
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = StepMessage.safeParse(message.body);
      if (parsed.success) {
        const msg = parsed.data;
        const now = Date.now();
        try {
          await runStub(env, msg.runId).report(msg.attemptId, {
            ok: false,
            error: {
              message: `Step could not be executed: its message was dead-lettered after ${message.attempts} deliveries`,
              retryable: false,
              code: 'DEAD_LETTERED',
            },
            startedAt: now,
            finishedAt: now,
          });
        } catch (_e) {
          message.retry({ delaySeconds: 30 });
          return;
        }
      }
      message.ack();
    }),
  );
}
