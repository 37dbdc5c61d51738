/**
 * Starting a run. The run's Durable Object is named after what makes the run unique (a
 * webhook's delivery id, a schedule's slot), and its own storage is the durable record of
 * the trigger event and the deduplication record: `startRun` returns once the object has
 * stored the event, before the trigger is acknowledged, and a second start under the same
 * name answers the first run's id with `duplicate: true`. Nothing is written to D1 on the
 * way; the run object writes the Explorer's copy itself (docs/execution.md).
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { tenants, workflows } from '../db/schema';
import type { Env } from '../env';
import { AppError } from '../errors';
import type { RunInit } from '../run/run-state';
import { type CachedVersion, versionFile } from './version-cache';
import { definitionIssues, isPermanentStartError, serializeTrigger, unrunnableVersion } from './start-checks';

export interface TriggerEvent {
  body: unknown;
  headers: Record<string, string>;
  query: Record<string, string>;
}

export interface ActiveWorkflow {
  /** `secretsRevision`: the tenant's, read with the workflow (signing-cache.ts). */
  tenant: { id: string; slug: string; secretsRevision?: number };
  workflow: { id: string; key: string; version: number };
  /** The version's file, parsed (cached per isolate: version-cache.ts); undefined when it is not JSON. */
  definition: unknown;
}

/** What makes a run unique: its run object is named after it. */
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

/**
 * The workflow's active version, looked up by webhook id or by key: one D1 read of the
 * workflow and its tenant (which version is active, the tenant's secrets revision); the
 * version's file comes from the isolate's cache after its first use.
 */
export async function activeWorkflowBy(
  db: Db,
  where: { hookId: string } | { tenantId: string; key: string },
): Promise<(ActiveWorkflow & { activeVersion: number | null; file: CachedVersion | null }) | null> {
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
      secretsRevision: tenants.secretsRevision,
      activeVersion: workflows.activeVersion,
    })
    .from(workflows)
    .innerJoin(tenants, eq(tenants.id, workflows.tenantId))
    .where(cond)
    .get();
  if (!row) return null;
  const file = row.activeVersion ? await versionFile(db, row.id, row.activeVersion) : null;
  return {
    tenant: { id: row.tenantId, slug: row.slug, secretsRevision: row.secretsRevision },
    workflow: { id: row.id, key: row.key, version: row.activeVersion ?? 0 },
    definition: file?.definition,
    activeVersion: row.activeVersion,
    file,
  };
}

const RUN_ID = /^run_([0-9a-f]{64})$/;
/** Ids made before runs were named after their object (newId('run')): their object is named after the id. */
const LEGACY_RUN_ID = /^run_[A-Za-z0-9_-]{16}$/;

/** The run id of the run object with this name: `run_` and the object's id in hex. */
export function runIdFor(env: Env, name: string): string {
  return `run_${env.RUN_COORDINATOR.idFromName(name).toString()}`;
}

/** The run's object, or null when `runId` is not a run id of this deployment (a route answers 404). */
export function runStubOrNull(env: Env, runId: string) {
  const ns = env.RUN_COORDINATOR;
  const hex = RUN_ID.exec(runId)?.[1];
  if (hex) {
    try {
      return ns.get(ns.idFromString(hex));
    } catch {
      // Not an id this namespace made.
      return null;
    }
  }
  return LEGACY_RUN_ID.test(runId) ? ns.get(ns.idFromName(runId)) : null;
}

/** The one way to reach a run's object. A malformed id is `run_not_found` (404). */
export function runStub(env: Env, runId: string) {
  const stub = runStubOrNull(env, runId);
  if (!stub) throw new AppError('run_not_found', 'Run not found');
  return stub;
}

function objectName(workflowId: string, dedup: Dedup | undefined): string {
  if (!dedup) return `run:${crypto.randomUUID()}`;
  return dedup.kind === 'delivery' ? `wf:${workflowId}:delivery:${dedup.id}` : `wf:${workflowId}:slot:${dedup.slot}`;
}

/**
 * Checks that the run can start, then hands it to its object, which stores the trigger
 * event before answering. A version that cannot run is refused (409) before anything is
 * stored; an object the platform cannot reach now is a 503 with Retry-After, so the
 * sender tries again and nothing is lost.
 */
export async function startRun(env: Env, req: StartRequest): Promise<{ runId: string; duplicate: boolean }> {
  const issues = definitionIssues(req.workflow, req.definition);
  if (issues.length) throw unrunnableVersion(req.workflow.key, req.workflow.version, issues);
  // Refuses an event nested too deep or too large to record, naming where.
  serializeTrigger(req.trigger);
  const name = objectName(req.workflow.id, req.dedup);
  const runId = runIdFor(env, name);
  const init: RunInit = {
    runId,
    tenant: { id: req.tenant.id, slug: req.tenant.slug },
    workflow: req.workflow,
    definition: req.definition,
    // Plain objects for the RPC (Hono's query object has no prototype).
    trigger: {
      type: req.triggerType,
      body: req.trigger.body,
      headers: req.trigger.headers,
      query: { ...req.trigger.query },
    },
    triggerRef: req.triggerRef ?? null,
    createdAt: Date.now(),
    retryOf: req.retryOf,
    seed: req.seed,
  };
  try {
    const started = await runStub(env, runId).start(init);
    return { runId: started.runId, duplicate: started.duplicate };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (isPermanentStartError(e))
      throw new AppError(
        'version_not_runnable',
        `Version ${req.workflow.version} of workflow "${req.workflow.key}" cannot run: ${message.slice(0, 500)}`,
      );
    console.error(
      JSON.stringify({ level: 'error', runId, message: 'run object could not start the run', error: message }),
    );
    throw new AppError('run_start_unavailable', 'The run could not be started right now; nothing was recorded, retry', {
      retryAfterSeconds: 5,
    });
  }
}
