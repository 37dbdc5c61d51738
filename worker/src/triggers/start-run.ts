/**
 * Starting a run: the run row (with its trigger event) and, when the trigger carries a
 * delivery id or a schedule slot, the dedup row are written in one D1 batch. Only the
 * request that wins the dedup row creates the run; a repeat gets the first run's id.
 * The run object is started after the write; if that never happens (the isolate died
 * after acknowledging), the minute sweeper starts it from the D1 row.
 */
import { and, eq } from 'drizzle-orm';
import { createDb, type Db } from '../db/client';
import { runs, runSteps, tenants, workflows, workflowVersions } from '../db/schema';
import type { Env } from '../env';
import { newId } from '../lib/crypto';
import type { RunInit } from '../run/run-state';
import {
  definitionIssues,
  failUnstartable,
  isPermanentStartError,
  serializeTrigger,
  START_GIVE_UP_MS,
  startProblem,
  unrunnableVersion,
} from './start-checks';

export interface TriggerEvent {
  body: unknown;
  headers: Record<string, string>;
  query: Record<string, string>;
}

export interface ActiveWorkflow {
  tenant: { id: string; slug: string };
  workflow: { id: string; key: string; version: number };
  /** The active version's file (JSON text). */
  definition: string;
}

export type Dedup = { kind: 'delivery'; id: string } | { kind: 'slot'; slot: number };

export interface StartRequest extends ActiveWorkflow {
  triggerType: 'webhook' | 'api' | 'schedule' | 'manual' | 'retry';
  trigger: TriggerEvent;
  triggerRef?: string | null;
  dedup?: Dedup;
  retryOf?: string;
  seed?: RunInit['seed'];
}

/** Headers that carry the caller's own credentials never become part of a run. */
const DROPPED_HEADERS = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
  'x-api-key',
  'cf-connecting-ip',
  'x-forwarded-for',
  'x-real-ip',
  'true-client-ip',
]);

export function recordableHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!DROPPED_HEADERS.has(name.toLowerCase())) out[name.toLowerCase()] = value;
  });
  return out;
}

/** The workflow's active version, looked up by webhook id or by key. */
export async function activeWorkflowBy(
  db: Db,
  where: { hookId: string } | { tenantId: string; key: string },
): Promise<(ActiveWorkflow & { activeVersion: number | null }) | null> {
  const cond =
    'hookId' in where
      ? eq(workflows.hookId, where.hookId)
      : and(eq(workflows.tenantId, where.tenantId), eq(workflows.key, where.key));
  const row = await db
    .select({
      id: workflows.id,
      key: workflows.key,
      tenantId: workflows.tenantId,
      slug: tenants.slug,
      activeVersion: workflows.activeVersion,
      definition: workflowVersions.definition,
    })
    .from(workflows)
    .innerJoin(tenants, eq(tenants.id, workflows.tenantId))
    .leftJoin(
      workflowVersions,
      and(eq(workflowVersions.workflowId, workflows.id), eq(workflowVersions.version, workflows.activeVersion)),
    )
    .where(cond)
    .get();
  if (!row) return null;
  return {
    tenant: { id: row.tenantId, slug: row.slug },
    workflow: { id: row.id, key: row.key, version: row.activeVersion ?? 0 },
    definition: row.definition ?? '',
    activeVersion: row.activeVersion,
  };
}

export async function recordRun(
  env: Env,
  req: StartRequest,
): Promise<{ runId: string; duplicate: boolean; init: RunInit }> {
  // Everything the run object will need is checked before anything is recorded, so an
  // acknowledged run can start: the version's file, and the event's depth and size.
  const definition = parseOrUndefined(req.definition);
  const issues = definitionIssues(req.workflow, definition);
  if (issues.length) throw unrunnableVersion(req.workflow.key, req.workflow.version, issues);
  // Stored as JSON and sent to the run object as plain data (Hono's query object has no prototype).
  const triggerJson = serializeTrigger(req.trigger);
  const runId = newId('run');
  const now = Date.now();
  const d1 = env.DB;
  const runInsert = (guard: string, guardParams: unknown[]) =>
    d1
      .prepare(
        `INSERT INTO runs (id, tenant_id, workflow_id, workflow_key, version, status, trigger_type, trigger_ref, trigger, retry_of, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ? ${guard}`,
      )
      .bind(
        runId,
        req.tenant.id,
        req.workflow.id,
        req.workflow.key,
        req.workflow.version,
        req.triggerType,
        req.triggerRef ?? null,
        triggerJson,
        req.retryOf ?? null,
        now,
        now,
        ...guardParams,
      );

  let winner = runId;
  if (!req.dedup) {
    await runInsert('', []).run();
  } else if (req.dedup.kind === 'delivery') {
    const id = req.dedup.id;
    const [, , found] = await d1.batch([
      d1
        .prepare(
          'INSERT INTO webhook_events (id, tenant_id, workflow_id, delivery_id, run_id, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workflow_id, delivery_id) DO NOTHING',
        )
        .bind(newId('evt'), req.tenant.id, req.workflow.id, id, runId, now),
      runInsert('WHERE (SELECT run_id FROM webhook_events WHERE workflow_id = ? AND delivery_id = ?) = ?', [
        req.workflow.id,
        id,
        runId,
      ]),
      d1
        .prepare('SELECT run_id FROM webhook_events WHERE workflow_id = ? AND delivery_id = ?')
        .bind(req.workflow.id, id),
    ]);
    winner = (found.results[0] as { run_id: string }).run_id;
  } else {
    const slot = req.dedup.slot;
    const [, , found] = await d1.batch([
      d1
        .prepare(
          'INSERT INTO schedule_slots (tenant_id, workflow_id, slot, run_id) VALUES (?, ?, ?, ?) ON CONFLICT (workflow_id, slot) DO NOTHING',
        )
        .bind(req.tenant.id, req.workflow.id, slot, runId),
      runInsert('WHERE (SELECT run_id FROM schedule_slots WHERE workflow_id = ? AND slot = ?) = ?', [
        req.workflow.id,
        slot,
        runId,
      ]),
      d1.prepare('SELECT run_id FROM schedule_slots WHERE workflow_id = ? AND slot = ?').bind(req.workflow.id, slot),
    ]);
    winner = (found.results[0] as { run_id: string }).run_id;
  }
  const init: RunInit = {
    runId: winner,
    tenant: req.tenant,
    workflow: req.workflow,
    definition,
    trigger: { type: req.triggerType, ...(JSON.parse(triggerJson) as TriggerEvent) },
    createdAt: now,
    retryOf: req.retryOf,
    seed: req.seed,
  };
  return { runId: winner, duplicate: winner !== runId, init };
}

export function runStub(env: Env, runId: string) {
  return env.RUN_COORDINATOR.get(env.RUN_COORDINATOR.idFromName(runId));
}

/**
 * Hands the run to its object. Safe to call twice: the object starts once. A run its
 * object can never take ends `failed` with the reason; a platform error is thrown, so
 * the sweeper tries again, until the run is START_GIVE_UP_MS old.
 */
export async function kickRun(env: Env, init: RunInit): Promise<'started' | 'failed'> {
  const db = createDb(env.DB);
  const run = { runId: init.runId, tenantId: init.tenant.id, workflowKey: init.workflow.key };
  const problem = startProblem(init);
  if (problem) {
    await failUnstartable(db, run, problem);
    return 'failed';
  }
  try {
    await runStub(env, init.runId).start(init);
    return 'started';
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (isPermanentStartError(e)) await failUnstartable(db, run, `the run object refused it (${message})`);
    else if (Date.now() - init.createdAt > START_GIVE_UP_MS)
      await failUnstartable(db, run, `still failing after ${START_GIVE_UP_MS / 60_000} minutes: ${message}`);
    else throw e;
    return 'failed';
  }
}

/** The sweeper's start of a run recorded but never started; a run it cannot rebuild ends failed. */
export async function startRecordedRun(
  env: Env,
  run: { id: string; tenantId: string },
): Promise<'started' | 'failed' | 'gone'> {
  const db = createDb(env.DB);
  const init = await initFromRecord(db, run.tenantId, run.id);
  if (init) return kickRun(env, init);
  const row = await db
    .select({ key: runs.workflowKey })
    .from(runs)
    .where(and(eq(runs.tenantId, run.tenantId), eq(runs.id, run.id)))
    .get();
  if (!row) return 'gone';
  await failUnstartable(
    db,
    { runId: run.id, tenantId: run.tenantId, workflowKey: row.key },
    'its workflow version is missing',
  );
  return 'failed';
}

/** Rebuilds a run's start request from D1, for the sweeper. */
export async function initFromRecord(db: Db, tenantId: string, runId: string): Promise<RunInit | null> {
  const row = await db
    .select({ run: runs, slug: tenants.slug, definition: workflowVersions.definition })
    .from(runs)
    .innerJoin(tenants, eq(tenants.id, runs.tenantId))
    .innerJoin(
      workflowVersions,
      and(eq(workflowVersions.workflowId, runs.workflowId), eq(workflowVersions.version, runs.version)),
    )
    .where(and(eq(runs.tenantId, tenantId), eq(runs.id, runId)))
    .get();
  if (!row) return null;
  const r = row.run;
  return {
    seed: r.retryOf ? await retrySeed(db, tenantId, r.retryOf) : undefined,
    runId: r.id,
    tenant: { id: r.tenantId, slug: row.slug },
    workflow: { id: r.workflowId, key: r.workflowKey, version: r.version },
    // A file that is not JSON any more is reported by kickRun's checks, not thrown here.
    definition: parseOrUndefined(row.definition),
    trigger: { type: r.triggerType, ...(r.trigger ?? { body: null, headers: {}, query: {} }) },
    createdAt: r.createdAt,
    retryOf: r.retryOf ?? undefined,
  };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What a retry of `runId` starts from: the outputs of its succeeded steps, and its failed steps. */
export async function retrySeed(db: Db, tenantId: string, runId: string): Promise<NonNullable<RunInit['seed']>> {
  const steps = await db
    .select({ stepId: runSteps.stepId, status: runSteps.status, output: runSteps.output })
    .from(runSteps)
    .where(and(eq(runSteps.tenantId, tenantId), eq(runSteps.runId, runId)));
  const outputs: Record<string, unknown> = {};
  for (const s of steps) if (s.status === 'succeeded') outputs[s.stepId] = s.output;
  return { outputs, start: steps.filter((s) => s.status === 'failed').map((s) => s.stepId) };
}
