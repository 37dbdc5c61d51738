/**
 * The Explorer's copy of a run in D1. The run object writes it in one batch per
 * flush (run row, changed steps, audit entries), coalescing bursts of step events,
 * so D1 sees a handful of writes per run rather than one per field change.
 */
import { and, asc, desc, eq, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { BatchItem } from '../db/batch';
import { runs, runSteps } from '../db/schema';
import { auditInsert } from '../audit/audit-log';
import { capValue, MAX_RECORDED_BYTES } from './limits';
import type { Outputs, RunState } from './run-state';

const ENGINE = { type: 'system', id: null, label: 'engine' } as const;

export function flushStatements(
  db: Db,
  state: RunState,
  outputs: Outputs,
  dirty: string[],
  runDirty: boolean,
  audit: RunState['audit'],
): BatchItem[] {
  const items: BatchItem[] = [];
  const now = Date.now();
  if (runDirty) {
    // The run's row first appears here: nothing is written to D1 before the trigger's 202.
    const changing = {
      status: state.status,
      error: state.error ?? null,
      startedAt: state.startedAt,
      finishedAt: state.finishedAt ?? null,
      updatedAt: now,
    };
    items.push(
      db
        .insert(runs)
        .values({
          id: state.runId,
          tenantId: state.tenant.id,
          workflowId: state.workflow.id,
          workflowKey: state.workflow.key,
          version: state.workflow.version,
          triggerType: state.trigger.type,
          triggerRef: state.triggerRef ?? null,
          trigger: { body: state.trigger.body, headers: state.trigger.headers, query: state.trigger.query },
          retryOf: state.retryOf ?? null,
          createdAt: state.createdAt,
          ...changing,
        })
        .onConflictDoUpdate({ target: runs.id, set: changing }),
    );
  }
  for (const id of dirty) {
    const s = state.steps[id];
    const row = {
      status: s.status as 'running',
      attempts: s.attempts.length || (s.status === 'pending' || s.status === 'skipped' ? 0 : 1),
      attemptLog: s.attempts,
      input: s.input === undefined ? null : capValue(s.input, MAX_RECORDED_BYTES),
      output: id in outputs ? capValue(outputs[id], MAX_RECORDED_BYTES) : null,
      error: s.error ?? null,
      startedAt: s.startedAt ?? null,
      finishedAt: s.finishedAt ?? null,
      seq: s.seq ?? 0,
    };
    items.push(
      db
        .insert(runSteps)
        .values({ tenantId: state.tenant.id, runId: state.runId, stepId: id, type: s.type, ...row })
        .onConflictDoUpdate({ target: [runSteps.runId, runSteps.stepId], set: row }),
    );
  }
  for (const a of audit) {
    items.push(
      auditInsert(db, {
        tenantId: state.tenant.id,
        actor: ENGINE,
        action: a.action,
        targetType: 'workflow',
        targetId: state.workflow.key,
        runId: state.runId,
        context: a.context,
        at: a.at,
      }),
    );
  }
  return items;
}

export interface RunListQuery {
  status?: string;
  workflow?: string;
  cursor?: { createdAt: number; id: string };
  limit: number;
}

export async function listRuns(db: Db, tenantId: string, q: RunListQuery) {
  const where: SQL[] = [eq(runs.tenantId, tenantId)];
  if (q.status) where.push(eq(runs.status, q.status as 'running'));
  if (q.workflow) where.push(eq(runs.workflowKey, q.workflow));
  if (q.cursor)
    where.push(
      or(
        lt(runs.createdAt, q.cursor.createdAt),
        and(eq(runs.createdAt, q.cursor.createdAt), lt(runs.id, q.cursor.id)),
      )!,
    );
  const rows = await db
    .select({
      id: runs.id,
      workflow: runs.workflowKey,
      version: runs.version,
      status: runs.status,
      triggerType: runs.triggerType,
      error: runs.error,
      retryOf: runs.retryOf,
      createdAt: runs.createdAt,
      startedAt: runs.startedAt,
      finishedAt: runs.finishedAt,
    })
    .from(runs)
    .where(and(...where))
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { runs: page, nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
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

export async function getRun(db: Db, tenantId: string, runId: string) {
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.tenantId, tenantId), eq(runs.id, runId)))
    .get();
}

export async function getRunSteps(db: Db, tenantId: string, runId: string) {
  return db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.tenantId, tenantId), eq(runSteps.runId, runId)))
    .orderBy(asc(runSteps.seq), asc(runSteps.stepId));
}

/**
 * A running run with an attempt in flight and no D1 update for this long gets a nudge:
 * the default attempt time limit plus its report margin, rounded up. The nudge re-sends
 * only attempts past their own deadline, so nudging a run with a slower step early costs
 * one call and moves nothing; its object's alarm is the first line, this the backstop.
 */
export const STALLED_AFTER_MS = 60_000;
/** Any running run with no D1 update this long gets a nudge (delays and backoffs wake on the alarm). */
export const QUIET_AFTER_MS = 5 * 60_000;
/** A run recorded but still `queued` this long after it was acknowledged was never started. */
export const UNSTARTED_AFTER_MS = 30_000;

const inFlightStep = sql`exists (select 1 from ${runSteps} where ${runSteps.runId} = ${runs.id} and ${runSteps.status} in ('queued', 'running'))`;

/**
 * Runs that should be moving but may not be, for the minute sweeper: never started;
 * running with an attempt in flight and quiet for STALLED_AFTER_MS (listed first, so
 * long-waiting runs cannot crowd them out); running and quiet for QUIET_AFTER_MS.
 */
export async function suspectRuns(db: Db, now: number, limit = 50) {
  const columns = { id: runs.id, tenantId: runs.tenantId, status: runs.status };
  const stalled = await db
    .select(columns)
    .from(runs)
    .where(
      or(
        and(eq(runs.status, 'queued'), lt(runs.createdAt, now - UNSTARTED_AFTER_MS)),
        and(eq(runs.status, 'running'), lt(runs.updatedAt, now - STALLED_AFTER_MS), inFlightStep),
      ),
    )
    .orderBy(asc(runs.updatedAt))
    .limit(limit);
  if (stalled.length >= limit) return stalled;
  const seen = new Set(stalled.map((r) => r.id));
  const quiet = await db
    .select(columns)
    .from(runs)
    .where(and(eq(runs.status, 'running'), lt(runs.updatedAt, now - QUIET_AFTER_MS)))
    .orderBy(asc(runs.updatedAt))
    .limit(limit);
  return [...stalled, ...quiet.filter((r) => !seen.has(r.id))].slice(0, limit);
}
