/**
 * One Durable Object per run (docs/execution.md), named after what makes the run unique
 * (start-run.ts): its storage is the durable record of the trigger event and the run's
 * deduplication record. It owns the run's state, evaluates conditions and templates, sends
 * ready action steps to the Queue in batches (or hands them straight back to the consumer
 * that reports the step before them, already claimed), takes each attempt's result exactly
 * once (by attempt id), and keeps its summary in the tenant's run index (run-index/) up
 * to date. Its alarm drives delays, retry backoffs, flush retries and the re-sending of
 * attempts lost past their deadline (attempt-deadlines.ts).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { Workflow } from '../workflows/workflow-file';
import { runIndex } from '../run-index/run-index-stub';
import { indexBatch, inFlightOf, worthIndexing } from './run-records';
import {
  applyResult,
  claim,
  currentStepOf,
  initState,
  lastUnpickedSend,
  lostAttempts,
  markSendFailed,
  nextDeadline,
  nextWake,
  overdueAttempts,
  parseDefinition,
  pickupOverdue,
  pump,
  resendAttempt,
  wake,
  type Outputs,
  type RunInit,
  type RunState,
} from './run-state';
import type { QueueBacklog } from './attempt-deadlines';
import { sendBatches } from './send-batches';
import { inputOf, loadState, storedState } from './run-storage';
import type { StepMessage, StepResult } from './step-message';

const FLUSH_RETRY_MS = 5_000;
const FLUSH_DEBOUNCE_MS = 50;
/**
 * A step finishing while the run goes on waits this long for company: the Explorer lists a
 * run's status, which has not changed, and the run's page reads its steps from this object.
 * Under load the run's next step usually reports within it, and one index write covers both.
 */
const PROGRESS_FLUSH_MS = 1_000;
const CLAIM_FLUSH_DELAY_MS = 500;
/**
 * How long after sending an attempt a run object stays in memory, at most, while the attempt
 * waits in the Queue. An idle object is evicted after 10 s (hibernated, in production), and the claim
 * that ends a longer wait loads it again: its state read back, and locally its database
 * files opened anew, which under a backlog doubled the objects constructed per run and was
 * the largest single cost of a run (bench/README.md, "Objects kept while their step is
 * queued"). A pending timer keeps the object (compatibility date 2026-10-01 on:
 * `durable_object_io_tasks_prevent_eviction`). Production bills the held time as duration:
 * nothing when a consumer picks the step up at once, at most 30 s x 128 MB = 3.75 GB-s per
 * run when the Queue is behind.
 */
const RESIDENT_WHILE_QUEUED_MS = 30_000;
/** See scheduleCleanPut. */
const CLEAN_PUT_DELAY_MS = 2_000;

export interface RunView {
  state: RunState;
  outputs: Outputs;
}

export interface Reported {
  /** False: a duplicate or stale report, which changed nothing. */
  applied: boolean;
  /** The run's next ready attempts, already claimed for the reporting consumer to execute now. */
  next: StepMessage[];
}

export class RunCoordinator extends DurableObject<Env> {
  private state: RunState | null = null;
  private outputs: Outputs = {};
  private wf: Workflow | null = null;
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushDue = 0;
  /** The alarm as last set (null: none), so an event that does not move it writes nothing. */
  private alarmAt: number | null = null;
  /** The run's summary reached its index from this instance: later flushes may wait for company. */
  private indexed = false;
  /** The "attempt in flight" flag the index last got from this instance. */
  private inFlightIndexed: boolean | null = null;
  /** Writes back the pending lists a flush emptied, unless the run's next event writes them first. */
  private cleanPut: ReturnType<typeof setTimeout> | null = null;
  /** A clean put is owed once the object is no longer held resident (scheduleCleanPut). */
  private cleanPutDeferred = false;
  /** The run's `input` (trigger event, definition) is in storage (run-storage.ts): later puts leave it be. */
  private inputStored = false;
  /** Keeps this object in memory while its run's attempt waits in the Queue (RESIDENT_WHILE_QUEUED_MS). */
  private resident: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const loaded = await loadState(ctx.storage);
      if (!loaded) return;
      const stored = loaded.state;
      this.inputStored = loaded.inputStored;
      this.alarmAt = await ctx.storage.getAlarm();
      this.state = stored;
      this.wf = parseDefinition(stored.definition);
      const outs = await ctx.storage.list<unknown>({ prefix: 'out:' });
      for (const [k, v] of outs) this.outputs[k.slice(4)] = v;
      // Stored with nothing pending: the index has the run as it is (no flush just for waking up).
      if (!stored.dirty.length && !stored.audit.length && !stored.runDirty) {
        this.indexed = true;
        this.inFlightIndexed = inFlightOf(stored);
      }
    });
  }

  /**
   * Starts the run: once this returns, the trigger event is in this object's storage. A
   * second start (a repeated delivery, a schedule slot fired twice) changes nothing and
   * answers the first run's id with `duplicate: true`. The first attempts' Queue messages
   * are sent after the answer; one that is lost is re-sent at its pickup deadline.
   */
  async start(init: RunInit): Promise<{ runId: string; status: string; duplicate: boolean }> {
    if (this.state) {
      this.scheduleFlushIfDirty();
      return { runId: this.state.runId, status: this.state.status, duplicate: true };
    }
    const now = Date.now();
    const { state, outputs, wf } = initState(init, now);
    this.state = state;
    this.outputs = outputs;
    this.wf = wf;
    await this.advance(now);
    // The first flush (started by advance, not debounced) is awaited: once this answers, the
    // run is listed and counted in its tenant's index (a workflow delete sees it in flight).
    // A failed flush is kept for the alarm's retry; it never fails the start.
    await this.flushing;
    return { runId: state.runId, status: state.status, duplicate: false };
  }

  /**
   * A consumer asks before executing an attempt (`send`: which send of its message it got):
   * false means done, superseded or being executed elsewhere; skip it.
   */
  async claim(attemptId: string, send?: number): Promise<boolean> {
    if (!this.state) return false;
    const ok = claim(this.state, attemptId, Date.now(), send);
    if (ok) {
      await this.persist([]);
      // The attempt's deadline moved: from its pickup to its time limit.
      await this.setAlarm();
      // Most attempts report within moments: one index write then covers "running" and the result.
      this.scheduleFlush(CLAIM_FLUSH_DELAY_MS);
    }
    // After the claim's own write, which carried any lists a deferred clean put owed.
    this.stayWhileQueued();
    return ok;
  }

  /**
   * An attempt's outcome. Duplicates (redelivered messages) are ignored. Up to `take` of
   * the attempts it makes ready come back claimed, for the reporting consumer to execute
   * at once (no Queue round trip, no claim); the rest go to the Queue.
   */
  async report(attemptId: string, result: StepResult, take = 0): Promise<Reported> {
    if (!this.state || !this.wf) return { applied: false, next: [] };
    const now = Date.now();
    const stepId = currentStepOf(this.state, attemptId)?.id;
    if (!applyResult(this.state, this.outputs, this.wf, attemptId, result, now)) return { applied: false, next: [] };
    const next = await this.advance(now, stepId ? [stepId] : [], [], take);
    return { applied: true, next };
  }

  /** Called by the minute sweeper for runs that look stuck: re-sends attempts past their deadline, re-flushes. */
  async nudge(): Promise<string> {
    if (!this.state) return 'unknown';
    this.state.runDirty = true;
    await this.heal(Date.now());
    return this.state.status;
  }

  async snapshot(): Promise<RunView | null> {
    return this.state ? { state: this.state, outputs: this.outputs } : null;
  }

  async alarm(): Promise<void> {
    // A fired alarm is gone; setAlarm() arms the next one if the run still needs it.
    this.alarmAt = null;
    if (!this.state || !this.wf) return;
    const now = Date.now();
    wake(this.state, this.outputs, this.wf, now);
    await this.heal(now);
  }

  private async heal(now: number) {
    const state = this.state!;
    const overdue = overdueAttempts(state, now);
    const backlog = pickupOverdue(overdue) ? await this.queueBacklog() : null;
    const resend = lostAttempts(overdue, backlog, now).map((s) => {
      console.warn(
        JSON.stringify({
          level: 'warn',
          runId: state.runId,
          stepId: s.id,
          attemptId: s.attemptId,
          message: `re-sending attempt: ${s.status === 'queued' ? 'not picked up' : 'no result'} by its deadline`,
        }),
      );
      return resendAttempt(state, this.outputs, this.wf!, s, now);
    });
    await this.advance(now, [], resend);
  }

  /** The step Queue's backlog (null when it cannot be read: the attempt is then treated as lost). */
  private async queueBacklog(): Promise<QueueBacklog | null> {
    try {
      return await this.env.STEP_QUEUE.metrics();
    } catch (e) {
      console.warn(JSON.stringify({ level: 'warn', message: 'queue metrics unavailable', error: String(e) }));
      return null;
    }
  }

  /**
   * Runs control steps, claims up to `take` of the ready attempts for the caller, then
   * one storage put, the alarm if its time changed, the Queue messages for the rest, the
   * D1 flush. Returns the claimed attempts' messages.
   */
  private async advance(now: number, changedOutputs: string[] = [], extra: StepMessage[] = [], take = 0) {
    const state = this.state!;
    const { messages } = pump(state, this.outputs, this.wf!, now);
    const claimed: StepMessage[] = [];
    const toSend: StepMessage[] = [...extra];
    for (const m of messages) {
      if (claimed.length < take && claim(state, m.attemptId, now, m.send)) claimed.push(m);
      else toSend.push(m);
    }
    const outputsToSave = new Set(changedOutputs);
    for (const id of state.dirty) if (id in this.outputs) outputsToSave.add(id);
    await this.persist([...outputsToSave]);
    await this.setAlarm();
    // After the answer: a send that fails or is lost leaves the attempt queued, and the
    // alarm re-sends it at its pickup deadline.
    if (toSend.length) this.ctx.waitUntil(this.send(toSend));
    this.scheduleFlush(state.runDirty ? FLUSH_DEBOUNCE_MS : PROGRESS_FLUSH_MS);
    this.stayWhileQueued();
    return claimed;
  }

  /**
   * Arms or drops the timer that keeps this object resident while an attempt awaits its
   * pickup, up to RESIDENT_WHILE_QUEUED_MS after the attempt's send: an object woken later
   * (its alarm, behind a long backlog) is not held again, or a backlog of thousands of runs
   * would keep them all in memory.
   */
  private stayWhileQueued() {
    const sentAt = this.state ? lastUnpickedSend(this.state) : null;
    const holdMs = sentAt === null ? 0 : sentAt + RESIDENT_WHILE_QUEUED_MS - Date.now();
    if (holdMs > 0) {
      this.resident ??= setTimeout(() => {
        this.resident = null;
        this.cleanPutIfDeferred();
      }, holdMs);
    } else if (this.resident) {
      clearTimeout(this.resident);
      this.resident = null;
      this.cleanPutIfDeferred();
    }
  }

  private async persist(outputIds: string[]) {
    this.cancelCleanPut();
    const outputs: Record<string, unknown> = {};
    for (const id of outputIds) if (id in this.outputs) outputs[`out:${id}`] = this.outputs[id];
    await this.putState(outputs);
  }

  /** One storage put: the run's progress, `extra` keys, and its input the first time (run-storage.ts). */
  private async putState(extra: Record<string, unknown> = {}) {
    const state = this.state!;
    const entries: Record<string, unknown> = { state: storedState(state), ...extra };
    if (!this.inputStored) entries.input = inputOf(state);
    await this.ctx.storage.put(entries);
    this.inputStored = true;
  }

  private async send(messages: StepMessage[]) {
    for (const chunk of sendBatches(messages)) {
      // A failed send leaves the attempt queued; the alarm re-sends it at its pickup deadline.
      try {
        await this.env.STEP_QUEUE.sendBatch(chunk.map((body) => ({ body, contentType: 'json' as const })));
      } catch (e) {
        console.error(
          JSON.stringify({
            level: 'error',
            runId: this.state?.runId,
            message: 'queue send failed; will re-send',
            error: String(e),
          }),
        );
        // Stored, so that no backlog in the Queue holds back the re-send (lostAttempts).
        if (
          this.state &&
          markSendFailed(
            this.state,
            chunk.map((m) => m.attemptId),
          )
        )
          await this.putState().catch(() => {});
      }
    }
  }

  /**
   * Arms the alarm for the earliest of: a delay or backoff ending, an attempt in flight
   * reaching its deadline. Each write is a billed storage row, so an alarm already set
   * earlier is left alone: firing early finds nothing due and arms the right time (which
   * only runs that outlive an attempt's deadline pay for).
   */
  private async setAlarm() {
    const state = this.state!;
    const candidates = [nextWake(state), nextDeadline(state)].filter((t): t is number => t !== null);
    const at = candidates.length ? Math.min(...candidates) : null;
    if (at === null) {
      if (this.alarmAt !== null) await this.ctx.storage.deleteAlarm();
    } else if (this.alarmAt === null || at < this.alarmAt) await this.ctx.storage.setAlarm(at);
    else return;
    this.alarmAt = at;
  }

  private scheduleFlushIfDirty() {
    const s = this.state;
    if (s && (s.dirty.length || s.runDirty || s.audit.length)) this.scheduleFlush();
  }

  /**
   * Coalesces index writes: events within `delayMs` share one flush, one flush runs at a
   * time, and one more follows if events came in meanwhile. Pending changes are in the
   * persisted state, so an eviction before the flush loses nothing (the next event or
   * the sweeper's nudge writes them).
   */
  private scheduleFlush(debounceMs = FLUSH_DEBOUNCE_MS) {
    // The first flush goes at once (no timer), so a new run is listed in the Explorer without delay.
    if (!this.indexed && !this.flushing) return this.startFlush();
    // A claim alone, say, changes nothing the index shows: it rides along with the next flush.
    if (this.state && !worthIndexing(this.state, this.inFlightIndexed)) return;
    const delayMs = debounceMs;
    const due = Date.now() + delayMs;
    if (this.flushTimer) {
      if (this.flushDue <= due) return;
      clearTimeout(this.flushTimer);
    }
    this.flushDue = due;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.startFlush();
    }, delayMs);
  }

  private startFlush() {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = (async () => {
      do {
        this.flushAgain = false;
        await this.flushOnce();
      } while (this.flushAgain);
    })().finally(() => {
      this.flushing = null;
    });
  }

  private async flushOnce() {
    const state = this.state;
    if (!state) return;
    const dirty = state.dirty.splice(0);
    const audit = state.audit.splice(0);
    const runDirty = state.runDirty;
    state.runDirty = false;
    if (!dirty.length && !audit.length && !runDirty) return;
    try {
      // One request to the tenant's run index: the summary, changed steps, new audit entries.
      const batch = indexBatch(state, dirty, audit);
      await runIndex(this.env, state.tenant.id).record(batch);
      this.indexed = true;
      this.inFlightIndexed = batch.run.inFlight;
      if (state.status === 'running') this.scheduleCleanPut();
    } catch (e) {
      // Put it back; the alarm retries in a few seconds. The run itself is not held up.
      for (const id of dirty) if (!state.dirty.includes(id)) state.dirty.push(id);
      state.audit.unshift(...audit);
      state.runDirty ||= runDirty;
      await this.putState();
      this.alarmAt = Date.now() + FLUSH_RETRY_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
      console.error(
        JSON.stringify({
          level: 'error',
          runId: state.runId,
          message: 'run index flush failed; will retry',
          error: String(e),
        }),
      );
    }
  }

  /**
   * The lists a flush emptied reach storage with the run's next event, which usually comes
   * within moments (a put of its own would cost a storage commit per flush). A run that waits
   * longer (in a Queue backlog, a delay) gets them written after CLEAN_PUT_DELAY_MS, well
   * before an idle object is evicted: a copy reloaded with them still listed would send them
   * again. Nothing depends on it but cost: the index applies a repeated flush idempotently
   * (upserts; audit entries keyed by their content). A finished run's lists are left as they
   * are; only a rare later event (a repeated delivery) repeats its last flush. An object
   * held resident while its step is queued (stayWhileQueued) defers it to the end of the hold.
   */
  private scheduleCleanPut() {
    // Held resident, the object cannot be evicted before its claim, whose write carries the
    // lists: no put of its own unless the hold ends some other way (cleanPutIfDeferred).
    if (this.resident) {
      this.cleanPutDeferred = true;
      return;
    }
    if (this.cleanPut) return;
    this.cleanPut = setTimeout(() => {
      this.cleanPut = null;
      if (this.state?.status !== 'running') return;
      this.putState().catch((e) =>
        console.warn(
          JSON.stringify({
            level: 'warn',
            runId: this.state?.runId,
            message: 'state write-back failed',
            error: String(e),
          }),
        ),
      );
    }, CLEAN_PUT_DELAY_MS);
  }

  private cleanPutIfDeferred() {
    if (!this.cleanPutDeferred) return;
    this.cleanPutDeferred = false;
    this.scheduleCleanPut();
  }

  private cancelCleanPut() {
    if (this.cleanPut) clearTimeout(this.cleanPut);
    this.cleanPut = null;
    this.cleanPutDeferred = false;
  }

  /**
   * Retention (run-index/): forgets a finished run, its details and its alarm. A run still
   * going is left alone (false).
   */
  async purge(): Promise<boolean> {
    if (this.state?.status === 'running') return false;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.cancelCleanPut();
    if (this.resident) clearTimeout(this.resident);
    this.resident = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.alarmAt = null;
    this.inputStored = false;
    this.state = null;
    this.outputs = {};
    this.wf = null;
    return true;
  }
}
