/**
 * What a run needs to start, checked before its trigger is acknowledged, and what
 * happens to an acknowledged run that still cannot start: it ends `failed` with the
 * reason in D1 (the Explorer shows it), rather than staying `queued` for the sweeper
 * to try every minute for ever.
 */
import { and, eq } from 'drizzle-orm';
import { auditInsert } from '../audit/audit-log';
import type { Db } from '../db/client';
import { runs } from '../db/schema';
import { AppError, type FieldIssue, zodIssues } from '../errors';
import { depthIssue, MAX_TRIGGER_BYTES, utf8Bytes } from '../lib/json-limits';
import { PublishedWorkflow } from '../workflows/workflow-file';

/** Versions already known to parse, per isolate: a version never changes, so once is enough. */
const runnableVersions = new Set<string>();
const MAX_REMEMBERED_VERSIONS = 1000;

/** Problems of a workflow version's file that would stop its run object from taking it. */
export function definitionIssues(workflow: { id: string; version: number }, definition: unknown): FieldIssue[] {
  const cacheKey = `${workflow.id}:${workflow.version}`;
  if (runnableVersions.has(cacheKey)) return [];
  if (definition === undefined) return [{ path: '(root)', message: 'the stored file is not valid JSON' }];
  // What the run object parses (run-state.ts), not the authoring rules added since it was published.
  const parsed = PublishedWorkflow.safeParse(definition);
  if (!parsed.success) return zodIssues(parsed.error);
  if (runnableVersions.size >= MAX_REMEMBERED_VERSIONS) runnableVersions.clear();
  runnableVersions.add(cacheKey);
  return [];
}

/** The version cannot run: `version_not_runnable` naming its first problem, so the caller can publish a fix and send again. */
export function unrunnableVersion(key: string, version: number, issues: FieldIssue[]): AppError {
  const first = issues[0];
  return new AppError(
    'version_not_runnable',
    `Version ${version} of workflow "${key}" cannot run (${first.path}: ${first.message}); publish a fixed version`,
    { details: issues },
  );
}

/** The trigger event as D1 stores it; refuses one nested too deep or too large to record. */
export function serializeTrigger(trigger: unknown): string {
  const deep = depthIssue((trigger as { body?: unknown }).body, ['body']);
  if (deep) throw new AppError('invalid_request', `Trigger ${deep.path}: ${deep.message}`, { details: [deep] });
  const json = JSON.stringify(trigger);
  const bytes = utf8Bytes(json);
  if (bytes > MAX_TRIGGER_BYTES)
    throw new AppError(
      'payload_too_large',
      `The trigger event is ${bytes} bytes as recorded (body, headers and query as JSON); at most ${MAX_TRIGGER_BYTES}`,
      { details: [{ path: 'body', message: `at most ${MAX_TRIGGER_BYTES} bytes as recorded` }] },
    );
  return json;
}

/** Why the run object could never take this run, or null. */
export function startProblem(init: {
  workflow: { id: string; key: string; version: number };
  definition: unknown;
  trigger: { body: unknown };
}): string | null {
  const issues = definitionIssues(init.workflow, init.definition);
  if (issues.length)
    return `version ${init.workflow.version} of the workflow cannot run: ${issues[0].path}: ${issues[0].message}`;
  const deep = depthIssue(init.trigger.body, ['trigger', 'body']);
  return deep ? `${deep.path}: ${deep.message}` : null;
}

/** Past this age a run that still could not start is failed, whatever the error said. */
export const START_GIVE_UP_MS = 60 * 60_000;

/**
 * An error thrown by the run object's own code (a definition or trigger it refuses),
 * as opposed to the platform failing to reach it (`retryable`, `overloaded`, or not
 * `remote`), which the sweeper tries again.
 */
export function isPermanentStartError(e: unknown): boolean {
  const err = e as { remote?: boolean; retryable?: boolean; overloaded?: boolean } | null;
  return !!err && err.remote === true && err.retryable !== true && err.overloaded !== true;
}

const MAX_REASON_CHARS = 1000;

/** Ends a run that never started: `failed`, with the reason, unless something already moved it on. */
export async function failUnstartable(
  db: Db,
  run: { runId: string; tenantId: string; workflowKey: string },
  reason: string,
): Promise<void> {
  const now = Date.now();
  const message = `Run could not start: ${reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason}`;
  await db.batch([
    db
      .update(runs)
      .set({ status: 'failed', error: { message }, finishedAt: now, updatedAt: now })
      .where(and(eq(runs.tenantId, run.tenantId), eq(runs.id, run.runId), eq(runs.status, 'queued'))),
    auditInsert(db, {
      tenantId: run.tenantId,
      actor: { type: 'system', id: null, label: 'engine' },
      action: 'run.start_failed',
      targetType: 'workflow',
      targetId: run.workflowKey,
      runId: run.runId,
      context: { reason: message },
    }),
  ]);
  console.error(JSON.stringify({ level: 'error', runId: run.runId, message: 'run failed to start', reason: message }));
}
