/**
 * A workflow's life beyond its versions: rename, disable (no new runs until a version is
 * activated again) and delete (with its versions and run history).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import {
  runs,
  runSteps,
  scheduleSlots,
  webhookEvents,
  workflowSchedules,
  workflows,
  workflowVersions,
} from '../db/schema';
import type { Env } from '../env';
import { runIndex } from '../run-index/run-index-stub';
import { AppError } from '../errors';
import { auditInsert } from '../audit/audit-log';
import { requireWorkflow, type RequestMeta } from './workflow-service';

/** Renames the workflow; the draft's `name` follows, so export and the editor agree. */
export async function renameWorkflow(db: Db, tenantId: string, key: string, name: string, meta: RequestMeta) {
  const row = await requireWorkflow(db, tenantId, key);
  const draft = JSON.parse(row.draft) as Record<string, unknown>;
  const renamed = draft && typeof draft === 'object' && !Array.isArray(draft) ? { ...draft, name } : draft;
  await db.batch([
    db
      .update(workflows)
      .set({ name, draft: JSON.stringify(renamed), updatedAt: Date.now() })
      .where(and(eq(workflows.tenantId, tenantId), eq(workflows.id, row.id))),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'workflow.rename',
      targetType: 'workflow',
      targetId: key,
      context: { from: row.name, to: name },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { key, name };
}

/**
 * No version is active any more: webhooks and API calls are refused and the schedule stops.
 * Activating a version (roll back) enables it again.
 */
export async function disableWorkflow(db: Db, tenantId: string, key: string, meta: RequestMeta) {
  const row = await requireWorkflow(db, tenantId, key);
  await db.batch([
    db
      .update(workflows)
      .set({ activeVersion: null, updatedAt: Date.now() })
      .where(and(eq(workflows.tenantId, tenantId), eq(workflows.id, row.id))),
    db
      .delete(workflowSchedules)
      .where(and(eq(workflowSchedules.tenantId, tenantId), eq(workflowSchedules.workflowId, row.id))),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'workflow.disable',
      targetType: 'workflow',
      targetId: key,
      context: { previous: row.activeVersion },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { key, activeVersion: null };
}

/** How many runs the workflow has, and how many are still going (the tenant's run index): what a delete would remove. */
export async function runCounts(env: Env, tenantId: string, workflow: { id: string; key: string }) {
  return runIndex(env, tenantId).workflowRuns({ id: workflow.id, key: workflow.key });
}

/**
 * Deletes the workflow, its versions and its run history. Refused while a run is in
 * flight (its run object would write to records that are gone): disable first, then wait.
 */
export async function deleteWorkflow(env: Env, db: Db, tenantId: string, key: string, meta: RequestMeta) {
  const row = await requireWorkflow(db, tenantId, key);
  const { total, inFlight } = await runCounts(env, tenantId, { id: row.id, key });
  if (inFlight > 0)
    throw new AppError(
      'workflow_runs_in_flight',
      `Workflow "${key}" has ${inFlight} run(s) in flight; disable it and wait for them`,
    );
  // The run history first (the index's rows now, the runs' objects by its upkeep): if the
  // D1 delete below then fails, the workflow stays, without history, rather than the reverse.
  await runIndex(env, tenantId).forgetWorkflow({ id: row.id, key });
  await db.batch([
    db.delete(webhookEvents).where(and(eq(webhookEvents.tenantId, tenantId), eq(webhookEvents.workflowId, row.id))),
    db.delete(scheduleSlots).where(and(eq(scheduleSlots.tenantId, tenantId), eq(scheduleSlots.workflowId, row.id))),
    // Run history recorded in D1 before the run index (nothing writes these tables any more).
    db
      .delete(runSteps)
      .where(
        and(
          eq(runSteps.tenantId, tenantId),
          inArray(runSteps.runId, db.select({ id: runs.id }).from(runs).where(eq(runs.workflowId, row.id))),
        ),
      ),
    db.delete(runs).where(and(eq(runs.tenantId, tenantId), eq(runs.workflowId, row.id))),
    db
      .delete(workflowSchedules)
      .where(and(eq(workflowSchedules.tenantId, tenantId), eq(workflowSchedules.workflowId, row.id))),
    db
      .delete(workflowVersions)
      .where(and(eq(workflowVersions.tenantId, tenantId), eq(workflowVersions.workflowId, row.id))),
    db.delete(workflows).where(and(eq(workflows.tenantId, tenantId), eq(workflows.id, row.id))),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'workflow.delete',
      targetType: 'workflow',
      targetId: key,
      context: { runsDeleted: total },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  // Again: a chunk of runs recorded in D1 before the run index may have reached the index
  // between the first forget and the batch above (run/legacy-import.ts, indexChunk).
  await runIndex(env, tenantId).forgetWorkflow({ id: row.id, key });
  return { key, deleted: true as const, runsDeleted: total };
}
