/**
 * The minute cron's schedule phase: finds due schedules through the `next_fire_at` index
 * (no definition is parsed to find them), starts one run per slot and moves each schedule
 * to its next fire time. Every workflow is handled on its own: one that fails is logged,
 * audited against its tenant (`schedule.failed`) and skipped, and the rest still fire.
 */
import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log';
import { AppError } from '../errors';
import { createDb, type Db } from '../db/client';
import { tenants, workflowSchedules, workflows, workflowVersions } from '../db/schema';
import type { Env } from '../env';
import { cronProblem, latestDueSlot, nextFireAfter } from './cron';
import { startRun } from './start-run';

/** Due schedules are read 100 at a time, up to 1,000 a minute; the rest (oldest first) are next minute's. */
const DUE_PAGE_SIZE = 100;
const DUE_PAGES = 10;
const FIRE_CONCURRENCY = 10;

type DueRow = Awaited<ReturnType<typeof dueSchedules>>[number];

function dueSchedules(db: Db, now: number) {
  return db
    .select({
      workflowId: workflowSchedules.workflowId,
      tenantId: workflowSchedules.tenantId,
      version: workflowSchedules.version,
      cron: workflowSchedules.cron,
      timezone: workflowSchedules.timezone,
      nextFireAt: workflowSchedules.nextFireAt,
      key: workflows.key,
      slug: tenants.slug,
      definition: workflowVersions.definition,
    })
    .from(workflowSchedules)
    .innerJoin(
      workflows,
      and(eq(workflows.id, workflowSchedules.workflowId), eq(workflows.tenantId, workflowSchedules.tenantId)),
    )
    .innerJoin(tenants, eq(tenants.id, workflowSchedules.tenantId))
    .leftJoin(
      workflowVersions,
      and(
        eq(workflowVersions.workflowId, workflowSchedules.workflowId),
        eq(workflowVersions.tenantId, workflowSchedules.tenantId),
        eq(workflowVersions.version, workflowSchedules.version),
      ),
    )
    .where(and(isNotNull(workflowSchedules.nextFireAt), lte(workflowSchedules.nextFireAt, now)))
    .orderBy(asc(workflowSchedules.nextFireAt))
    .limit(DUE_PAGE_SIZE);
}

/**
 * Moves the schedule on, only if nobody else did (another invocation for the same minute,
 * or a publish that wrote a new schedule meanwhile).
 */
function advance(db: Db, row: DueRow, next: number | null) {
  return db
    .update(workflowSchedules)
    .set({ nextFireAt: next, updatedAt: Date.now() })
    .where(
      and(
        eq(workflowSchedules.tenantId, row.tenantId),
        eq(workflowSchedules.workflowId, row.workflowId),
        eq(workflowSchedules.version, row.version),
        eq(workflowSchedules.nextFireAt, row.nextFireAt!),
      ),
    );
}

function parseDefinition(row: DueRow): { trigger?: { payload?: unknown } } {
  if (row.definition === null) throw new Error(`version ${row.version} of the workflow was not found`);
  try {
    return JSON.parse(row.definition);
  } catch {
    // Not the parser's message: it quotes the definition.
    throw new Error(`version ${row.version}'s definition is not valid JSON`);
  }
}

/** Fires `row`'s latest due slot; returns the run id when this call started one. */
async function fire(env: Env, db: Db, row: DueRow, now: number): Promise<string | null> {
  const schedule = { cron: row.cron, timezone: row.timezone };
  const problem = cronProblem(row.cron);
  if (problem) throw new Error(problem);
  const next = nextFireAfter(schedule, now);
  // Backfilled by the migration: compute the first fire time, fire nothing yet.
  if (row.nextFireAt === 0) {
    await advance(db, row, next);
    return null;
  }
  // The cron did not run for some minutes: fire once, for the latest missed slot.
  const slot = latestDueSlot(schedule, row.nextFireAt!, now);
  const definition = parseDefinition(row);
  const scheduledAt = new Date(slot).toISOString();
  let started: { runId: string; duplicate: boolean };
  try {
    // The run object named after the slot is its record: a second fire of the slot starts nothing.
    started = await startRun(env, {
      tenant: { id: row.tenantId, slug: row.slug },
      workflow: { id: row.workflowId, key: row.key, version: row.version },
      definition,
      triggerType: 'schedule',
      trigger: { body: definition.trigger?.payload ?? { scheduledAt }, headers: {}, query: {} },
      triggerRef: scheduledAt,
      dedup: { kind: 'slot', slot },
    });
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'run_start_unavailable') throw e;
    // Not advanced: the next minute fires this slot (or a later one) again; nothing is lost.
    console.error(
      JSON.stringify({
        level: 'warn',
        message: 'scheduled run not started; next minute retries',
        workflowId: row.workflowId,
      }),
    );
    return null;
  }
  await advance(db, row, next);
  return started.duplicate ? null : started.runId;
}

/** Logs and audits a failed schedule, then moves it past this slot so it fails once per slot, not every minute. */
async function recordFailure(db: Db, row: DueRow, error: unknown, now: number): Promise<void> {
  const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
  let next: number | null = null;
  try {
    next = nextFireAfter({ cron: row.cron, timezone: row.timezone }, now);
  } catch {
    // The expression itself is the problem: stop until a new version is published.
  }
  console.error(
    JSON.stringify({
      level: 'error',
      message: 'schedule failed',
      tenantId: row.tenantId,
      workflowId: row.workflowId,
      version: row.version,
      reason,
    }),
  );
  try {
    await advance(db, row, next);
    await recordAudit(db, {
      tenantId: row.tenantId,
      actor: { type: 'system', id: null, label: 'scheduler' },
      action: 'schedule.failed',
      targetType: 'workflow',
      targetId: row.key,
      context: {
        version: row.version,
        slot: row.nextFireAt ? new Date(row.nextFireAt).toISOString() : null,
        reason,
        nextFireAt: next === null ? null : new Date(next).toISOString(),
      },
    });
  } catch (e) {
    console.error(
      JSON.stringify({
        level: 'error',
        message: 'could not record a schedule failure',
        workflowId: row.workflowId,
        error: String(e),
      }),
    );
  }
}

export async function startDueSchedules(
  env: Env,
  scheduledTime: number,
): Promise<{ started: string[]; failed: number }> {
  const db = createDb(env.DB);
  const started: string[] = [];
  const seen = new Set<string>();
  let failed = 0;
  // Page by page: each handled row moves past now, so the next page is the next due rows.
  // A row seen twice (its advance lost to a concurrent write) is not handled again.
  for (let page = 0; page < DUE_PAGES; page++) {
    const rows = (await dueSchedules(db, scheduledTime)).filter((r) => !seen.has(r.workflowId));
    for (const row of rows) seen.add(row.workflowId);
    // A few at a time: each fire waits on D1 and on its run object, not on CPU.
    for (let i = 0; i < rows.length; i += FIRE_CONCURRENCY) {
      await Promise.all(
        rows.slice(i, i + FIRE_CONCURRENCY).map(async (row) => {
          try {
            const runId = await fire(env, db, row, scheduledTime);
            if (runId) started.push(runId);
          } catch (e) {
            failed++;
            await recordFailure(db, row, e, scheduledTime);
          }
        }),
      );
    }
    if (rows.length < DUE_PAGE_SIZE) break;
  }
  return { started, failed };
}
