/**
 * The D1 rows of runs recorded before the run index (migrations 0001, 0003): `runs`,
 * `run_steps`, the engine's `step.attempt` rows in `audit_log` and the dedup rows
 * `webhook_events` and `schedule_slots`. Nothing writes them any more; the minute cron
 * carries them into each tenant's run index (legacy-import.ts) and retention prunes the
 * expired ones (retention.ts). Raw SQL, so the JSON columns stay the text D1 stored.
 */
import { atomically } from '../db/batch';
import type { Db } from '../db/client';
import type { LegacyRun, LegacyStep } from '../run-index/index-types';
import { DAY_MS } from '../tenants/settings';

/** A legacy run as far as deleting its rows needs to know it. */
export interface LegacyRunRef {
  id: string;
  workflowId: string;
  createdAt: number;
}

const IN_IDS = 'IN (SELECT value FROM json_each(?))';

/**
 * Deletes a chunk of one tenant's legacy runs and what hangs off them, atomically. The
 * engine's per-attempt audit rows go (the run's step records carried the same attempt log);
 * governance entries (who retried it) stay.
 *
 * The dedup rows are found through the ranges their indexes serve. A webhook event was
 * written with the same `now` as its run's `created_at` (start-run.ts before 9afc50b, their
 * only writer), so the chunk's span covers them. A schedule slot is the minute the run was
 * due, at or before its `created_at`: a day's slack covers a cron that fired late. A row
 * outside these ranges would only be left behind: nothing reads these tables.
 */
export function deleteLegacyRuns(db: Db, tenantId: string, chunk: LegacyRunRef[]) {
  const ids = JSON.stringify(chunk.map((r) => r.id));
  const workflowIds = JSON.stringify([...new Set(chunk.map((r) => r.workflowId))]);
  const oldest = Math.min(...chunk.map((r) => r.createdAt));
  const newest = Math.max(...chunk.map((r) => r.createdAt));
  return atomically(db, [
    { sql: `DELETE FROM run_steps WHERE run_id ${IN_IDS}`, params: [ids] },
    {
      sql: `DELETE FROM audit_log WHERE tenant_id = ? AND run_id ${IN_IDS} AND actor_type = 'system' AND action = 'step.attempt'`,
      params: [tenantId, ids],
    },
    {
      sql: `DELETE FROM webhook_events WHERE tenant_id = ? AND received_at BETWEEN ? AND ? AND run_id ${IN_IDS}`,
      params: [tenantId, oldest, newest, ids],
    },
    {
      sql: `DELETE FROM schedule_slots WHERE workflow_id ${IN_IDS} AND slot BETWEEN ? AND ? AND run_id ${IN_IDS}`,
      params: [workflowIds, oldest - DAY_MS, newest, ids],
    },
    { sql: `DELETE FROM runs WHERE tenant_id = ? AND id ${IN_IDS}`, params: [tenantId, ids] },
  ]);
}

interface RunRow {
  id: string;
  workflow_id: string;
  workflow_key: string;
  version: number;
  status: LegacyRun['run']['status'];
  trigger_type: string;
  trigger_ref: string | null;
  trigger: string | null;
  error: string | null;
  retry_of: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** A step as `run_steps` held it; the run index keeps the same columns in `legacy_steps`. */
export interface LegacyStepRow {
  step_id: string;
  type: string;
  status: string;
  attempts: number;
  seq: number;
  attempt_log: string | null;
  input: string | null;
  output: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * The tenant's `limit` newest legacy runs with their steps and `step.attempt` entries, as
 * D1 holds them (three reads, each an indexed range). Newest first: the Explorer pages from
 * the newest, so an import in progress shows an unbroken stretch of history.
 */
export async function readLegacyRuns(d1: D1Database, tenantId: string, limit: number): Promise<LegacyRun[]> {
  const { results: runs } = await d1
    .prepare(
      `SELECT id, workflow_id, workflow_key, version, status, trigger_type, trigger_ref, trigger, error, retry_of,
              created_at, started_at, finished_at, updated_at
       FROM runs WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .bind(tenantId, limit)
    .all<RunRow>();
  if (!runs.length) return [];
  const ids = JSON.stringify(runs.map((r) => r.id));
  const [steps, audit] = await d1.batch<
    (LegacyStepRow & { run_id: string }) | { id: string; run_id: string; at: number; context: string | null }
  >([
    d1
      .prepare(
        `SELECT run_id, step_id, type, status, attempts, seq, attempt_log, input, output, error, started_at, finished_at
         FROM run_steps WHERE tenant_id = ? AND run_id ${IN_IDS}`,
      )
      .bind(tenantId, ids),
    d1
      .prepare(
        `SELECT id, run_id, at, context FROM audit_log
         WHERE tenant_id = ? AND run_id ${IN_IDS} AND actor_type = 'system' AND action = 'step.attempt'`,
      )
      .bind(tenantId, ids),
  ]);
  const stepsOf = groupBy(steps.results as (LegacyStepRow & { run_id: string })[]);
  const auditOf = groupBy(audit.results as { id: string; run_id: string; at: number; context: string | null }[]);
  return runs.map((r) => ({
    run: {
      id: r.id,
      workflowId: r.workflow_id,
      workflowKey: r.workflow_key,
      version: r.version,
      status: r.status,
      triggerType: r.trigger_type,
      triggerRef: r.trigger_ref,
      error: r.error,
      retryOf: r.retry_of,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      updatedAt: r.updated_at,
      inFlight: false,
    },
    trigger: r.trigger,
    steps: (stepsOf.get(r.id) ?? []).map(legacyStepOf),
    audit: (auditOf.get(r.id) ?? []).map((a) => ({ id: a.id, at: a.at, context: a.context })),
  }));
}

export function legacyStepOf(s: LegacyStepRow): LegacyStep {
  return {
    stepId: s.step_id,
    type: s.type,
    status: s.status,
    attempts: s.attempts,
    seq: s.seq,
    attemptLog: s.attempt_log,
    input: s.input,
    output: s.output,
    error: s.error,
    startedAt: s.started_at,
    finishedAt: s.finished_at,
  };
}

function groupBy<T extends { run_id: string }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const list = out.get(row.run_id);
    if (list) list.push(row);
    else out.set(row.run_id, [row]);
  }
  return out;
}
