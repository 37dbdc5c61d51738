/**
 * The Explorer's view of runs. A run object flushes its summary, changed steps and new
 * audit entries to its tenant's run index (run-index/) in one request per flush,
 * coalescing bursts of step events; the run's details (trigger event, step inputs,
 * outputs, attempt logs) are read from the run object itself, or for a run recorded in D1
 * before the index, from what was imported with it. Nothing here touches D1.
 */
import { AppError } from '../errors';
import type { Env } from '../env';
import type { IndexBatch, LegacyRecord, RunPageQuery, RunSummary } from '../run-index/index-types';
import { runIndex } from '../run-index/run-index-stub';
import { runStubOrNull } from '../triggers/start-run';
import { legacyDetail } from './legacy-detail';
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
 * Where a run's detail is read: its own object's state, or, for a run recorded in D1 before
 * the run index whose object holds no usable state, the record the minute cron imported with
 * it into the tenant's index (legacy-import.ts).
 */
export type FoundRun = { view: RunView } | { legacy: LegacyRecord };

/**
 * The run, if it is this tenant's: another tenant's run, an unknown id and an id that
 * cannot name a run object are all `run_not_found`.
 */
export async function findRun(env: Env, tenantId: string, runId: string): Promise<FoundRun> {
  const found = await lookupRun(env, tenantId, runId);
  if (!found) throw new AppError('run_not_found', 'Run not found');
  return found;
}

async function lookupRun(env: Env, tenantId: string, runId: string): Promise<FoundRun | null> {
  // An id that cannot name a run object is no run (ids before and after 9afc50b both can).
  const stub = runStubOrNull(env, runId);
  if (!stub) return null;
  const index = runIndex(env, tenantId);
  // A run its index removed (retention, workflow deleted) is gone, also before its object is purged.
  const [snap, forgotten] = await Promise.all([
    (stub.snapshot() as Promise<RunView | null>).then(
      (view) => ({ view, error: null }),
      (error: unknown) => ({ view: null, error }),
    ),
    index.forgotten(runId),
  ]);
  if (forgotten) return null;
  if (snap.view) return snap.view.state.tenant.id === tenantId ? { view: snap.view } : null;
  // No state (or one its object cannot load): only a run imported from D1 has a record to
  // fall back on, and only in its own tenant's index.
  const legacy = await index.legacyRun(runId);
  if (legacy) return { legacy };
  if (snap.error) throw snap.error;
  return null;
}

/** GET /api/runs/{id}, from wherever the run was found. */
export function runDetail(found: FoundRun) {
  return 'view' in found ? objectDetail(found.view) : legacyDetail(found.legacy);
}

/** A run's detail from its object: the run and every step that became ready, recorded data capped at 16 KB each. */
function objectDetail(view: RunView) {
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
