/** Runs: start (API, manual), the Execution Explorer's list and detail, retry from the failed step. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { actorOf } from '../auth/principal';
import { recordAudit } from '../audit/audit-log';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { decodeCursor, findRun, listRuns, runDetail } from '../run/run-records';
import type { RunView } from '../run/run-coordinator';
import type { RunInit } from '../run/run-state';
import { activeWorkflowBy, recordableHeaders, startRun } from '../triggers/start-run';
import { versionFile } from '../triggers/version-cache';
import { requireWorkflow } from '../workflows/workflow-service';

const trigger = { role: 'editor', scope: 'runs:trigger' } as const;
const read = { role: 'viewer', scope: 'runs:read' } as const;

const RunBody = z
  .strictObject({ payload: z.unknown().optional().openapi({ description: 'Becomes `trigger.body`' }) })
  .openapi('StartRunRequest');
const Started = z.object({ runId: z.string(), duplicate: z.boolean() }).openapi('RunStarted');
const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
const STEP_STATUSES = ['pending', 'ready', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped'] as const;
// Recorded JSON (trigger bodies, step inputs and outputs) is whatever the workflow made: any JSON value.
const Json = z.unknown();
const RunError = z
  .object({ message: z.string(), stepId: z.string().optional().openapi({ description: 'The step that failed' }) })
  .openapi('RunError');
const AttemptLog = z
  .object({
    n: z.number().openapi({ description: 'Attempt number, from 1' }),
    attemptId: z.string(),
    queuedAt: z.number(),
    startedAt: z.number().optional(),
    finishedAt: z.number().optional(),
    outcome: z.enum(['succeeded', 'failed', 'retrying']).optional(),
    error: z.object({ message: z.string(), retryable: z.boolean() }).optional(),
    nextAttemptAt: z.number().optional(),
    timeoutMs: z.number().optional().openapi({ description: "The attempt's time limit in ms (docs/execution.md)" }),
    sends: z
      .number()
      .optional()
      .openapi({ description: 'How many times the run sent the attempt (re-sends after a loss)' }),
    sentAt: z.number().optional().openapi({ description: 'When it last sent it' }),
    backlogSeenAt: z.number().optional().openapi({
      description:
        'When the run last found the Queue still holding messages as old as this send at its pickup deadline (a backlog, not a loss: not re-sent)',
    }),
    sendFailed: z
      .boolean()
      .optional()
      .openapi({ description: 'The Queue refused the latest send; the run re-sends it at its deadline' }),
    deliveries: z
      .array(
        z.object({
          at: z.number(),
          send: z.number().openapi({ description: 'Which send of the attempt was delivered' }),
          redelivery: z.boolean(),
          reason: z.enum(['queue redelivery', 'resent after timeout']).optional(),
        }),
      )
      .optional()
      .openapi({
        description:
          'Every delivery a consumer executed. More than one: the call may have happened more than once (same idempotency key).',
      }),
  })
  .openapi('AttemptLog');
const StepError = z
  .object({
    message: z.string(),
    stack: z.string().optional(),
    retryable: z.boolean(),
    retryAfterMs: z.number().optional(),
    status: z.number().optional().openapi({ description: "The called API's HTTP status" }),
    code: z.string().optional(),
  })
  .openapi('StepError');
const RecordedTrigger = z
  .object({ body: Json, headers: z.record(z.string(), z.string()), query: z.record(z.string(), z.string()) })
  .openapi('RecordedTrigger', { description: 'The event as received (secret-bearing headers left out)' });
const RunQuery = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  workflow: z.string().max(64).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const RunSummary = z
  .object({
    id: z.string(),
    workflow: z.string(),
    version: z.number(),
    status: z.enum(RUN_STATUSES),
    triggerType: z.string(),
    error: RunError.nullable(),
    retryOf: z.string().nullable(),
    createdAt: z.number(),
    startedAt: z.number().nullable(),
    finishedAt: z.number().nullable(),
  })
  .openapi('RunSummary');
const StepRecord = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(STEP_STATUSES),
    attempts: z.number(),
    attemptLog: z.array(AttemptLog),
    input: Json,
    output: Json,
    error: StepError.nullable(),
    startedAt: z.number().nullable(),
    finishedAt: z.number().nullable(),
  })
  .openapi('StepRecord');
const RunDetail = RunSummary.extend({ trigger: RecordedTrigger.nullable(), steps: z.array(StepRecord) }).openapi(
  'RunDetail',
);
const IdParam = z.object({ id: z.string().max(100) });
const KeyParam = z.object({ key: z.string().max(64) });

function meta(c: Context<AppEnv>) {
  return { ip: clientIp(c), requestId: c.get('requestId') };
}

export const runRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/{key}/runs',
      permission: trigger,
      summary: 'Start a run of the active version (202). An Idempotency-Key header makes repeats return the same run.',
      request: { params: KeyParam, ...jsonBody(RunBody) },
      responses: { 202: jsonResponse(Started, 'Accepted; the run is recorded') },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const { key } = c.req.valid('param');
      const wf = await activeWorkflowBy(c.get('db'), { tenantId: p.tenantId, key });
      if (!wf) throw new AppError('workflow_not_found', `Workflow "${key}" not found`);
      if (!wf.activeVersion)
        throw new AppError('workflow_not_published', `Workflow "${key}" has no published version; publish it first`);
      const idem = c.req.header('idempotency-key');
      if (idem !== undefined && (idem.length < 1 || idem.length > 200))
        throw new AppError('invalid_request', 'Idempotency-Key header: 1 to 200 characters', {
          details: [{ path: 'header.idempotency-key', message: '1 to 200 characters' }],
        });
      const { runId, duplicate } = await startRun(c.env, {
        ...wf,
        triggerType: p.type === 'token' ? 'api' : 'manual',
        trigger: {
          body: c.req.valid('json').payload ?? null,
          headers: recordableHeaders(c.req.raw.headers),
          query: {},
        },
        triggerRef: p.type === 'token' ? p.tokenName : p.email,
        dedup: idem ? { kind: 'delivery', id: `api:${idem}` } : undefined,
      });
      return c.json({ runId, duplicate }, 202);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/runs',
      permission: read,
      summary: 'Execution Explorer: runs, newest first',
      request: { query: RunQuery },
      responses: {
        200: jsonResponse(
          z.object({ runs: z.array(RunSummary), nextCursor: z.string().nullable() }).openapi('RunPage'),
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
      if (cursor === null)
        throw new AppError('invalid_request', 'query.cursor: not a cursor from this API', {
          details: [{ path: 'query.cursor', message: 'invalid cursor' }],
        });
      return c.json(await listRuns(c.env, c.get('principal')!.tenantId, { ...q, cursor }), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/runs/{id}',
      permission: read,
      summary: 'A run with every step: status, attempts, input, output, error',
      request: { params: IdParam },
      responses: { 200: jsonResponse(RunDetail) },
    }),
    async (c) => {
      const tenantId = c.get('principal')!.tenantId;
      const { id } = c.req.valid('param');
      // Details live in the run's own object, or for a run from before the run index whose
      // object holds no state, in the record imported with it (findRun: this tenant's, not removed).
      return c.json(runDetail(await findRun(c.env, tenantId, id)), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/runs/{id}/retry',
      permission: { role: 'editor', scope: 'runs:trigger' },
      summary: 'Re-run a failed run from its failed step, reusing the outputs of the steps before it',
      request: { params: IdParam },
      responses: { 202: jsonResponse(Started) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      const { id } = c.req.valid('param');
      // The failed run's own object holds its steps and outputs: the retry is seeded from it
      // (findRun: this tenant's run, not removed by retention or a workflow delete).
      const found = await findRun(c.env, p.tenantId, id);
      const status = 'view' in found ? found.view.state.status : found.legacy.run.status;
      if (status !== 'failed')
        throw new AppError('run_not_retryable', `Only failed runs can be retried; this one is ${status}`);
      // A record imported from D1 keeps outputs capped for display (and older ones no event):
      // seeding a retry from it could feed later steps a preview instead of the real output.
      if (!('view' in found))
        throw new AppError(
          'legacy_run_not_retryable',
          'This run was recorded before the run index and its run object no longer holds its state: the record ' +
            'kept of it shows its steps, but cannot seed a retry (outputs are kept capped). Start a new run instead.',
        );
      const view = found.view;
      const old = view.state;
      const wfRow = await requireWorkflow(db, p.tenantId, old.workflow.key);
      // The same version the failed run executed: a retry must not change behaviour under it.
      const file = wfRow.id === old.workflow.id ? await versionFile(db, wfRow.id, old.workflow.version) : null;
      if (!file)
        throw new AppError(
          'version_not_found',
          `Version ${old.workflow.version} of workflow "${old.workflow.key}" not found`,
        );
      const { runId } = await startRun(c.env, {
        tenant: old.tenant,
        workflow: { id: wfRow.id, key: wfRow.key, version: old.workflow.version },
        definition: file.definition,
        triggerType: 'retry',
        trigger: { body: old.trigger.body, headers: old.trigger.headers, query: old.trigger.query },
        triggerRef: id,
        retryOf: id,
        seed: retrySeed(view),
      });
      await recordAudit(db, {
        tenantId: p.tenantId,
        actor: actorOf(p),
        action: 'run.retry',
        targetType: 'run',
        targetId: id,
        runId,
        context: { retryOf: id },
        ...meta(c),
      });
      return c.json({ runId, duplicate: false }, 202);
    },
  );

/** What a retry starts from: the outputs of the failed run's succeeded steps, and its failed steps. */
function retrySeed(view: RunView): NonNullable<RunInit['seed']> {
  const steps = Object.values(view.state.steps);
  const outputs: Record<string, unknown> = {};
  for (const s of steps) if (s.status === 'succeeded') outputs[s.id] = view.outputs[s.id] ?? null;
  return { outputs, start: steps.filter((s) => s.status === 'failed').map((s) => s.id) };
}
