/**
 * The run's state machine, free of I/O so it can be reasoned about and tested alone.
 * The run object (run-coordinator.ts) persists the state and carries out the effects:
 * queue messages for action attempts, and the earliest wake-up time for its alarm.
 */
import { attemptTimeoutMs } from '../../../connectors';
import { MAX_DELAY_MS, PublishedWorkflow, type ActionStep, type Step, type Workflow } from '../workflows/workflow-file';
import {
  attemptDeadline,
  awaitingPickup,
  redeliveryFor,
  stillQueued,
  type AttemptTiming,
  type QueueBacklog,
} from './attempt-deadlines';
import { MAX_RETRY_AFTER_MS, retryAfterTooLong, retryDelayMs } from './backoff';
import { utf8Bytes } from '../lib/json-limits';
import { capText, capValue, fitsBytes, MAX_MESSAGE_BYTES, MAX_RECORDED_BYTES } from './limits';
import { evaluateRule, RuleError } from './rules';
import type { StepError, StepMessage, StepResult } from './step-message';
import { describeSecrets, markerFor } from './secret-markers';
import { render, type TemplateScope } from './templates';

export type RunStatus = 'running' | 'succeeded' | 'failed';
export type StepStatus = 'pending' | 'ready' | 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped';

/** One attempt of an action step; the timing fields are explained in attempt-deadlines.ts. */
export interface AttemptLog extends AttemptTiming {
  n: number;
  attemptId: string;
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'retrying';
  error?: { message: string; retryable: boolean };
  nextAttemptAt?: number;
}

export interface StepState {
  id: string;
  type: Step['type'];
  status: StepStatus;
  /** Order in which the step became ready, for the Explorer. */
  seq?: number;
  attempt: number;
  attemptId?: string;
  attempts: AttemptLog[];
  input?: unknown;
  error?: StepError;
  startedAt?: number;
  finishedAt?: number;
  /** Output copied from the run this one retries. */
  reused?: boolean;
  /** Why the step is waiting: a delay step, or an action's backoff. */
  wakeAt?: number;
}

export interface RunInit {
  runId: string;
  tenant: { id: string; slug: string };
  workflow: { id: string; key: string; version: number };
  /** The version's file as published. */
  definition: unknown;
  trigger: { type: string; body: unknown; headers: Record<string, string>; query: Record<string, string> };
  /** What started it: webhook delivery id, schedule slot, token or user (the Explorer's `trigger_ref`). */
  triggerRef?: string | null;
  createdAt: number;
  retryOf?: string;
  /** For a retry: outputs of the steps that succeeded before, and where to start again. */
  seed?: { outputs: Record<string, unknown>; start: string[] };
}

export interface AuditItem {
  action: string;
  at: number;
  context: Record<string, unknown>;
}

export interface RunState extends Omit<RunInit, 'seed'> {
  v: 1;
  /** Random per run; marks secret placeholders the workflow itself wrote (secret-markers.ts). */
  secretNonce: string;
  status: RunStatus;
  startedAt: number;
  finishedAt?: number;
  error?: { message: string; stepId?: string };
  seq: number;
  steps: Record<string, StepState>;
  /** Steps and run fields changed since the last D1 flush. */
  dirty: string[];
  runDirty: boolean;
  audit: AuditItem[];
}

export type Outputs = Record<string, unknown>;

export interface Effects {
  messages: StepMessage[];
}

/** A stored version was validated when published; checks added since must not strand its runs. */
export function parseDefinition(definition: unknown): Workflow {
  return PublishedWorkflow.parse(definition);
}

export function initState(init: RunInit, now: number): { state: RunState; outputs: Outputs; wf: Workflow } {
  const wf = parseDefinition(init.definition);
  const steps: Record<string, StepState> = {};
  for (const s of wf.steps) steps[s.id] = { id: s.id, type: s.type, status: 'pending', attempt: 0, attempts: [] };
  const { seed, ...rest } = init;
  const state: RunState = {
    ...rest,
    v: 1,
    secretNonce: crypto.randomUUID(),
    status: 'running',
    startedAt: now,
    seq: 0,
    steps,
    dirty: [],
    runDirty: true,
    audit: [],
  };
  const outputs: Outputs = {};
  if (seed) {
    for (const [id, output] of Object.entries(seed.outputs)) {
      if (!steps[id]) continue;
      Object.assign(steps[id], { status: 'succeeded', reused: true, seq: ++state.seq, finishedAt: now });
      outputs[id] = output;
      markDirty(state, id);
    }
    for (const id of seed.start) makeReady(state, id);
  } else {
    makeReady(state, wf.steps[0].id);
  }
  return { state, outputs, wf };
}

function markDirty(state: RunState, id: string) {
  if (!state.dirty.includes(id)) state.dirty.push(id);
}

function makeReady(state: RunState, id: string | null | undefined) {
  if (!id) return;
  const s = state.steps[id];
  // Paths that meet run the shared step once: the first arrival wins.
  if (s?.status !== 'pending') return;
  s.status = 'ready';
  s.seq = ++state.seq;
  markDirty(state, id);
}

export function scopeOf(state: RunState, outputs: Outputs, wf: Workflow): TemplateScope {
  const steps: Record<string, { output: unknown }> = {};
  for (const [id, output] of Object.entries(outputs)) steps[id] = { output };
  return {
    trigger: state.trigger,
    steps,
    vars: wf.vars ?? {},
    run: { id: state.runId, workflow: state.workflow.key, version: state.workflow.version, startedAt: state.startedAt },
  };
}

function stepDef(wf: Workflow, id: string): Step {
  return wf.steps.find((s) => s.id === id)!;
}

function succeed(
  state: RunState,
  outputs: Outputs,
  step: StepState,
  output: unknown,
  next: (string | null | undefined)[],
  now: number,
) {
  step.status = 'succeeded';
  step.finishedAt = now;
  step.startedAt ??= now;
  step.wakeAt = undefined;
  outputs[step.id] = capValue(output);
  markDirty(state, step.id);
  for (const n of next) makeReady(state, n);
}

function failStep(state: RunState, step: StepState, error: StepError, now: number) {
  step.status = 'failed';
  step.error = { ...error, stack: capText(error.stack), message: capText(error.message, 4096)! };
  step.finishedAt = now;
  step.wakeAt = undefined;
  markDirty(state, step.id);
  if (state.status === 'running') {
    state.status = 'failed';
    state.error = { message: `Step "${step.id}" failed: ${step.error.message}`, stepId: step.id };
    state.runDirty = true;
  }
}

function audit(state: RunState, action: string, at: number, context: Record<string, unknown>) {
  state.audit.push({ action, at, context });
}

/** Evaluates control steps in place and turns ready actions into queue messages. */
export function pump(state: RunState, outputs: Outputs, wf: Workflow, now: number): Effects {
  const messages: StepMessage[] = [];
  if (state.status !== 'running') return { messages };
  for (let guard = 0; guard < 10_000; guard++) {
    const ready = Object.values(state.steps)
      .filter((s) => s.status === 'ready')
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    if (!ready.length || state.status !== 'running') break;
    for (const step of ready) {
      if (state.status !== 'running') break;
      const def = stepDef(wf, step.id);
      if (def.type === 'action') {
        const message = queueAttempt(state, outputs, wf, step, def, now);
        const text = JSON.stringify(message);
        if (!fitsBytes(text, MAX_MESSAGE_BYTES)) {
          const bytes = utf8Bytes(text);
          // A Queue message holds 128 KB: better a clear failure now than a step that never leaves.
          failStep(
            state,
            step,
            {
              message: `Step params are ${bytes} bytes once rendered; a step may send at most ${MAX_MESSAGE_BYTES}. Pass a smaller part of the data (e.g. "{{ trigger.body.items }}" rather than the whole body).`,
              retryable: false,
              code: 'PARAMS_TOO_LARGE',
            },
            now,
          );
          audit(state, 'step.attempt', now, {
            stepId: step.id,
            type: 'action',
            attempt: step.attempt,
            outcome: 'failed',
            error: 'params too large',
          });
          finishIfDone(state, now);
          continue;
        }
        messages.push(message);
        continue;
      }
      runControlStep(state, outputs, wf, step, def, now);
    }
  }
  finishIfDone(state, now);
  return { messages };
}

function runControlStep(
  state: RunState,
  outputs: Outputs,
  wf: Workflow,
  step: StepState,
  def: Exclude<Step, ActionStep>,
  now: number,
) {
  const scope = scopeOf(state, outputs, wf);
  step.startedAt = now;
  step.attempt = 1;
  try {
    switch (def.type) {
      case 'condition': {
        step.input = { rule: def.rule };
        const { result, passed } = evaluateRule(def.rule, scope);
        succeed(
          state,
          outputs,
          step,
          { result, passed, next: (passed ? def.then : def.else) ?? null },
          [passed ? def.then : def.else],
          now,
        );
        break;
      }
      case 'branch': {
        const value = render(def.value, scope);
        step.input = { value };
        const index = def.cases.findIndex((c) => JSON.stringify(render(c.equals, scope)) === JSON.stringify(value));
        const next = index >= 0 ? def.cases[index].next : def.default;
        succeed(
          state,
          outputs,
          step,
          { value, matched: index >= 0 ? index : 'default', next: next ?? null },
          [next],
          now,
        );
        break;
      }
      case 'transform':
        succeed(state, outputs, step, render(def.output, scope), [def.next], now);
        break;
      case 'delay': {
        const given = def.until !== undefined ? String(render(def.until, scope)) : undefined;
        const until = given !== undefined ? Date.parse(given) : now + (def.delayMs ?? 0);
        if (!Number.isFinite(until)) throw new RuleError(`"until" is not a date: ${given}`);
        // A templated date gets the cap a literal one gets at publish: no run waits longer than 30 days.
        if (until - now > MAX_DELAY_MS)
          throw new RuleError(
            `"until" is ${given}, more than 30 days ahead; a delay may wait at most 30 days (as with delayMs)`,
          );
        step.input = { until: new Date(until).toISOString() };
        if (until <= now) succeed(state, outputs, step, { waitedMs: 0 }, [def.next], now);
        else {
          step.status = 'waiting';
          step.wakeAt = until;
          markDirty(state, step.id);
        }
        break;
      }
    }
    audit(state, 'step.attempt', now, { stepId: step.id, type: def.type, attempt: 1, outcome: step.status });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    failStep(state, step, { message, stack: e instanceof Error ? e.stack : undefined, retryable: false }, now);
    audit(state, 'step.attempt', now, {
      stepId: step.id,
      type: def.type,
      attempt: 1,
      outcome: 'failed',
      error: message,
    });
  }
}

function queueAttempt(
  state: RunState,
  outputs: Outputs,
  wf: Workflow,
  step: StepState,
  def: ActionStep,
  now: number,
): StepMessage {
  step.attempt += 1;
  step.attemptId = `${state.runId}:${step.id}:${step.attempt}`;
  step.status = 'queued';
  const message = buildMessage(state, outputs, wf, step, def);
  step.input = {
    connector: def.connector,
    action: def.action,
    params: capValue(describeSecrets(message.params, state.secretNonce), MAX_RECORDED_BYTES),
    secrets: def.secrets ?? {},
  };
  const timeoutMs = attemptTimeoutMs(def.connector, def.action, message.params);
  step.attempts.push({ n: step.attempt, attemptId: step.attemptId, queuedAt: now, timeoutMs, sends: 1, sentAt: now });
  markDirty(state, step.id);
  return { ...message, timeoutMs, send: 1 };
}

/** The queue message for the step's current attempt, as its latest send. */
function buildMessage(state: RunState, outputs: Outputs, wf: Workflow, step: StepState, def: ActionStep): StepMessage {
  // While an attempt is being queued its log does not exist yet: queueAttempt fills these in.
  const log = step.attempts.find((a) => a.attemptId === step.attemptId);
  return {
    v: 1,
    runId: state.runId,
    tenantId: state.tenant.id,
    tenantSlug: state.tenant.slug,
    stepId: step.id,
    attempt: step.attempt,
    attemptId: step.attemptId!,
    connector: def.connector,
    action: def.action,
    params: renderParams(state, outputs, wf, def),
    secrets: def.secrets ?? {},
    idempotencyKey: `${state.runId}.${step.id}`,
    secretNonce: state.secretNonce,
    timeoutMs: log?.timeoutMs,
    send: log?.sends ?? 1,
  };
}

/** Secrets become markers: the consumer fills them in, the run never holds them. */
function renderParams(state: RunState, outputs: Outputs, wf: Workflow, def: ActionStep) {
  return render(def.params ?? {}, scopeOf(state, outputs, wf), {
    secretMarker: markerFor(state.secretNonce),
  }) as Record<string, unknown>;
}

/** The step this attempt belongs to, if the attempt is still the one the run waits for. */
export function currentStepOf(state: RunState, attemptId: string): StepState | undefined {
  const step = Object.values(state.steps).find((s) => s.attemptId === attemptId);
  return step && (step.status === 'queued' || step.status === 'running') ? step : undefined;
}

/**
 * A consumer is about to execute an attempt (`send`: which send of its message it got).
 * False: it is done or superseded, or another delivery is executing it within its time
 * limit; skip it. True: execute it; a delivery after the first is recorded as a
 * redelivery, since the call may then happen more than once (same idempotency key).
 */
export function claim(state: RunState, attemptId: string, now: number, send = 1): boolean {
  const step = currentStepOf(state, attemptId);
  if (!step || state.status !== 'running') return false;
  const log = step.attempts[step.attempts.length - 1];
  if (step.status === 'queued') {
    step.status = 'running';
    step.startedAt ??= now;
    log.startedAt = now;
    log.deliveries = [{ at: now, send, redelivery: false }];
    markDirty(state, step.id);
    return true;
  }
  const delivery = redeliveryFor(log, send, now);
  if (!delivery) return false;
  log.deliveries = [...(log.deliveries ?? []), delivery];
  markDirty(state, step.id);
  return true;
}

/**
 * Applies an attempt's result. Returns false for a duplicate or stale report (a
 * redelivered message, a result for a run that already ended), which changes nothing.
 */
export function applyResult(
  state: RunState,
  outputs: Outputs,
  wf: Workflow,
  attemptId: string,
  result: StepResult,
  now: number,
): boolean {
  const step = currentStepOf(state, attemptId);
  if (!step || state.status !== 'running') return false;
  const def = stepDef(wf, step.id) as ActionStep;
  const log = step.attempts[step.attempts.length - 1];
  log.startedAt ??= result.startedAt;
  log.finishedAt = result.finishedAt;
  step.startedAt ??= result.startedAt;
  const ctx = {
    stepId: step.id,
    type: 'action',
    connector: def.connector,
    action: def.action,
    attempt: step.attempt,
    durationMs: result.finishedAt - result.startedAt,
  };
  if (result.ok) {
    log.outcome = 'succeeded';
    succeed(state, outputs, step, result.output, [def.next], now);
    audit(state, 'step.attempt', now, { ...ctx, outcome: 'succeeded' });
    return true;
  }
  const maxAttempts = def.retry?.maxAttempts ?? 1;
  log.error = { message: capText(result.error.message, 1024)!, retryable: result.error.retryable };
  const tooLong = result.error.retryable && retryAfterTooLong(result.error.retryAfterMs);
  if (result.error.retryable && step.attempt < maxAttempts && !tooLong) {
    const wakeAt = now + retryDelayMs(def.retry!, step.attempt, result.error.retryAfterMs);
    log.outcome = 'retrying';
    log.nextAttemptAt = wakeAt;
    step.status = 'waiting';
    step.wakeAt = wakeAt;
    step.error = result.error;
    markDirty(state, step.id);
    audit(state, 'step.attempt', now, { ...ctx, outcome: 'retrying', error: log.error.message, nextAttemptAt: wakeAt });
    return true;
  }
  log.outcome = 'failed';
  const exhausted = tooLong
    ? ` (not retried: the remote side asked to wait ${Math.round(result.error.retryAfterMs! / 3_600_000)} hours, more than the ${MAX_RETRY_AFTER_MS / 3_600_000} a step waits)`
    : result.error.retryable
      ? ` (gave up after ${step.attempt} attempt${step.attempt > 1 ? 's' : ''})`
      : '';
  failStep(state, step, { ...result.error, message: result.error.message + exhausted }, now);
  audit(state, 'step.attempt', now, { ...ctx, outcome: 'failed', error: log.error.message });
  finishIfDone(state, now);
  return true;
}

/** Wakes delay steps and retry backoffs that are due. */
export function wake(state: RunState, outputs: Outputs, wf: Workflow, now: number): void {
  if (state.status !== 'running') return;
  for (const step of Object.values(state.steps)) {
    if (step.status !== 'waiting' || step.wakeAt === undefined || step.wakeAt > now) continue;
    const def = stepDef(wf, step.id);
    if (def.type === 'delay') {
      succeed(state, outputs, step, { waitedMs: now - (step.startedAt ?? now) }, [def.next], now);
      audit(state, 'step.attempt', now, { stepId: step.id, type: 'delay', attempt: 1, outcome: 'succeeded' });
    } else {
      step.status = 'ready';
      step.wakeAt = undefined;
      markDirty(state, step.id);
    }
  }
}

export function nextWake(state: RunState): number | null {
  if (state.status !== 'running') return null;
  const times = Object.values(state.steps)
    .filter((s) => s.status === 'waiting' && s.wakeAt !== undefined)
    .map((s) => s.wakeAt!);
  return times.length ? Math.min(...times) : null;
}

function finishIfDone(state: RunState, now: number) {
  const active = Object.values(state.steps).some((s) => ['ready', 'queued', 'running', 'waiting'].includes(s.status));
  if (state.status === 'running' && active) return;
  if (state.finishedAt) return;
  if (state.status === 'failed' && active) {
    // A failed run stops: steps still waiting for a backoff or delay will not run.
    for (const s of Object.values(state.steps))
      if (s.status === 'waiting') {
        s.status = 'skipped';
        s.wakeAt = undefined;
        markDirty(state, s.id);
      }
  }
  if (state.status === 'running') state.status = 'succeeded';
  state.finishedAt = now;
  state.runDirty = true;
  // Steps no path reached, listed after the ones that ran, in file order.
  for (const s of Object.values(state.steps)) {
    if (s.status === 'pending') {
      s.status = 'skipped';
      s.seq = ++state.seq;
      markDirty(state, s.id);
    }
  }
}

function inFlight(state: RunState): StepState[] {
  if (state.status !== 'running') return [];
  return Object.values(state.steps).filter(
    (s) => (s.status === 'queued' || s.status === 'running') && s.attempts.length > 0,
  );
}

const latestAttempt = (s: StepState) => s.attempts[s.attempts.length - 1];

/** Attempts past their deadline (attempt-deadlines.ts): not picked up, or claimed and silent. */
export function overdueAttempts(state: RunState, now: number): StepState[] {
  return inFlight(state).filter((s) => attemptDeadline(latestAttempt(s)) <= now);
}

/** When the latest send not yet picked up by a consumer was made (null: nothing of the run waits in the Queue). */
export function lastUnpickedSend(state: RunState): number | null {
  const sends = inFlight(state)
    .map(latestAttempt)
    .filter(awaitingPickup)
    .map((log) => log.sentAt ?? log.queuedAt);
  return sends.length ? Math.max(...sends) : null;
}

/** Whether an overdue attempt waits for its pickup: the run object then asks the Queue for its backlog. */
export function pickupOverdue(overdue: StepState[]): boolean {
  return overdue.some((s) => awaitingPickup(latestAttempt(s)));
}

/**
 * Of the attempts past their deadline, the lost ones, to send again. One whose message
 * the Queue may still hold behind a backlog (stillQueued in attempt-deadlines.ts) is not
 * re-sent: its pickup deadline counts again from now.
 */
export function lostAttempts(overdue: StepState[], backlog: QueueBacklog | null, now: number) {
  return overdue.filter((s) => {
    const log = latestAttempt(s);
    if (!awaitingPickup(log) || !stillQueued(log, backlog, now)) return true;
    // Stored with the state; the index keeps nothing of it, so the step is not marked for a flush.
    log.backlogSeenAt = now;
    return false;
  });
}

/** The earliest deadline of an attempt in flight, for the run object's alarm. */
export function nextDeadline(state: RunState): number | null {
  const times = inFlight(state).map((s) => attemptDeadline(latestAttempt(s)));
  return times.length ? Math.min(...times) : null;
}

/** The current message of a step's attempt, e.g. to replay it in tests; changes nothing. */
export function resendMessage(state: RunState, outputs: Outputs, wf: Workflow, step: StepState): StepMessage {
  return buildMessage(state, outputs, wf, step, stepDef(wf, step.id) as ActionStep);
}

/**
 * Sends a lost attempt again: same attempt id and idempotency key, so a late original is
 * still deduplicated; counted as a new send so its pickup has a deadline of its own.
 */
export function resendAttempt(state: RunState, outputs: Outputs, wf: Workflow, step: StepState, now: number) {
  const log = latestAttempt(step);
  log.sends = (log.sends ?? 1) + 1;
  log.sentAt = now;
  log.sendFailed = undefined;
  markDirty(state, step.id);
  return resendMessage(state, outputs, wf, step);
}

/** The Queue refused these messages: their attempts wait for their deadlines, not behind a backlog. */
export function markSendFailed(state: RunState, attemptIds: string[]): boolean {
  let marked = false;
  for (const id of attemptIds) {
    const step = currentStepOf(state, id);
    const log = step?.attempts[step.attempts.length - 1];
    if (log?.attemptId !== id) continue;
    log.sendFailed = true;
    marked = true;
  }
  return marked;
}
