/**
 * The Explorer's view of runs. A run object flushes its summary, changed steps and new
 * audit entries to its tenant's run index (run-index/) in one request per flush,
 * coalescing bursts of step events; the run's details (trigger event, step inputs,
 * outputs, attempt logs) are read from the run object itself. Nothing here touches D1.
 */
import { AppError } from '../errors';
import type { Env } from '../env';
import type { IndexBatch, RunPageQuery, RunSummary } from '../run-index/index-types';
import { runIndex } from '../run-index/run-index-stub';
import { runStubOrNull } from '../triggers/start-run';
import { capValue, MAX_RECORDED_BYTES } from './limits';
import type { RunView } from './run-coordinator';
import type { AuditItem, RunState } from './run-state';

const IN_FLIGHT = new Set(['queued', 'running']);
const FINISHED = new Set(['succeeded', 'failed', 'skipped']);

/** An attempt is queued or running: the index's sweep checks such runs sooner. */
export function inFlightOf(state: RunState): boolean {
  return Object.values(state.steps).some((s) => IN_FLIGHT.has(s.status));
}

/**
 * Whether the index would learn something from a flush now: the run's status or error,
 * an audit entry, a step that finished, or an attempt in flight starting or ending. A step
 * only claimed or made ready is not worth a request of its own; it goes with the next flush
 * (a run's detail is read from its object, not from the index).
 */
export function worthIndexing(state: RunState, inFlightIndexed: boolean | null): boolean {
  return (
    state.runDirty ||
    state.audit.length > 0 ||
    state.dirty.some((id) => FINISHED.has(state.steps[id]?.status)) ||
    inFlightOf(state) !== inFlightIndexed
  );
}

/** One flush for the run index: the run's summary, the steps in `dirty`, the audit entries. */
export function indexBatch(state: RunState, dirty: string[], audit: AuditItem[]): IndexBatch {
  return {
    run: {
      id: state.runId,
      tenantId: state.tenant.id,
      workflowId: state.workflow.id,
      workflowKey: state.workflow.key,
      version: state.workflow.version,
      status: state.status,
      triggerType: state.trigger.type,
      triggerRef: state.triggerRef ?? null,
      error: state.error ?? null,
      retryOf: state.retryOf ?? null,
      createdAt: state.createdAt,
      startedAt: state.startedAt,
      finishedAt: state.finishedAt ?? null,
      inFlight: inFlightOf(state),
    },
    steps: dirty.map((id) => {
      const s = state.steps[id];
      return {
        stepId: id,
        type: s.type,
        status: s.status,
        attempts: attemptCount(s),
        seq: s.seq ?? 0,
        startedAt: s.startedAt ?? null,
        finishedAt: s.finishedAt ?? null,
      };
    }),
    audit,
  };
}

function attemptCount(s: RunState['steps'][string]): number {
  return s.attempts.length || (s.status === 'pending' || s.status === 'skipped' ? 0 : 1);
}

/** One page of the Explorer from the tenant's run index, with the cursor of the next. */
export async function listRuns(env: Env, tenantId: string, q: RunPageQuery) {
  const { runs, more } = await runIndex(env, tenantId).list(q);
  const last = runs[runs.length - 1];
  return { runs, nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null };
}

export function encodeCursor(createdAt: number, id: string): string {
  return btoa(`${createdAt}:${id}`).replace(/=+$/, '');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  try {
    const [t, id] = atob(cursor).split(/:(.*)/s);
    return Number.isFinite(Number(t)) && id ? { createdAt: Number(t), id } : null;
  } catch {
    return null;
  }
}

/**
 * The run's state from its own object, if it is this tenant's: another tenant's run, an
 * unknown id and an id that cannot name a run object are all `run_not_found`.
 */
export async function findRun(env: Env, tenantId: string, runId: string): Promise<RunView> {
  const view = await viewOf(env, tenantId, runId);
  if (!view) throw new AppError('run_not_found', 'Run not found');
  return view;
}

export async function viewOf(env: Env, tenantId: string, runId: string): Promise<RunView | null> {
  // An id that cannot name a run object is no run.
  const stub = runStubOrNull(env, runId);
  if (!stub) return null;
  // A run its index removed (retention, workflow deleted) is gone, also before its object is purged.
  const [view, forgotten] = await Promise.all([
    stub.snapshot() as Promise<RunView | null>,
    runIndex(env, tenantId).forgotten(runId),
  ]);
  return view && !forgotten && view.state.tenant.id === tenantId ? view : null;
}

/** GET /api/runs/{id}: the run and every step that became ready, recorded data capped at 16 KB each. */
export function runDetail(view: RunView) {
  const { state, outputs } = view;
  const steps = Object.values(state.steps)
    .filter((s) => s.seq !== undefined || s.status !== 'pending')
    .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const { type: _type, ...trigger } = state.trigger;
  return {
    ...summaryOf(state),
    trigger,
    steps: steps.map((s) => ({
      id: s.id,
      type: s.type,
      status: s.status,
      attempts: attemptCount(s),
      attemptLog: s.attempts,
      input: s.input === undefined ? null : capValue(s.input, MAX_RECORDED_BYTES),
      output: s.id in outputs ? capValue(outputs[s.id], MAX_RECORDED_BYTES) : null,
      error: s.error ?? null,
      startedAt: s.startedAt ?? null,
      finishedAt: s.finishedAt ?? null,
    })),
  };
}

export function summaryOf(state: RunState): RunSummary {
  return {
    id: state.runId,
    workflow: state.workflow.key,
    version: state.workflow.version,
    status: state.status,
    triggerType: state.trigger.type,
    error: state.error ?? null,
    retryOf: state.retryOf ?? null,
    createdAt: state.createdAt,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt ?? null,
  };
}
