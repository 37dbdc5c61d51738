/**
 * Keeps `workflow_schedules` in step with each workflow's active version: the statement
 * goes into the same D1 batch as the publish or roll back, so the minute cron never sees
 * a schedule that is not the active version's.
 */
import { and, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client';
import { workflowSchedules } from '../db/schema';
import { DEFAULT_TIMEZONE, nextFireAfter } from '../triggers/cron';
import type { Trigger } from './workflow-file';

/**
 * The upsert (trigger is a schedule) or delete (it is not) for `workflowId` becoming
 * `version` (a number, or SQL for a version numbered inside the same batch).
 */
export function scheduleIndexStatement(
  db: Db,
  target: { tenantId: string; workflowId: string; version: number | SQL },
  trigger: Trigger,
  now = Date.now(),
) {
  if (trigger.type !== 'schedule') {
    return db
      .delete(workflowSchedules)
      .where(and(eq(workflowSchedules.tenantId, target.tenantId), eq(workflowSchedules.workflowId, target.workflowId)));
  }
  const timezone = trigger.timezone ?? DEFAULT_TIMEZONE;
  // Publishing never fires a slot that has already begun: the first fire is after now.
  const row = {
    tenantId: target.tenantId,
    version: target.version,
    cron: trigger.cron,
    timezone,
    nextFireAt: nextFireAfter({ cron: trigger.cron, timezone }, now),
    updatedAt: now,
  };
  return db
    .insert(workflowSchedules)
    .values({ workflowId: target.workflowId, ...row })
    .onConflictDoUpdate({ target: workflowSchedules.workflowId, set: row });
}
