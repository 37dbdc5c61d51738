/** Runs: start (API, manual), the Execution Explorer's list and detail, retry from the failed step. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { actorOf } from '../auth/principal';
import { recordAudit } from '../audit/audit-log';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { decodeCursor, getRun, getRunSteps, listRuns } from '../run/run-records';
import { activeWorkflowBy, kickRun, recordableHeaders, recordRun, retrySeed } from '../triggers/start-run';
import { getVersion, requireWorkflow } from '../workflows/workflow-service';

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
      const { runId, duplicate, init } = await recordRun(c.env, {
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
      if (!duplicate)
        c.executionCtx.waitUntil(
          kickRun(c.env, init).catch((e) =>
            console.error(
              JSON.stringify({ level: 'error', runId, message: 'run start deferred to sweeper', error: String(e) }),
            ),
          ),
        );
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
      return c.json(await listRuns(c.get('db'), c.get('principal')!.tenantId, { ...q, cursor }), 200);
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
      const run = await getRun(c.get('db'), tenantId, id);
      if (!run) throw new AppError('run_not_found', 'Run not found');
      const steps = await getRunSteps(c.get('db'), tenantId, id);
      return c.json(
        {
          id: run.id,
          workflow: run.workflowKey,
          version: run.version,
          status: run.status,
          triggerType: run.triggerType,
          error: run.error,
          retryOf: run.retryOf,
          createdAt: run.createdAt,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          trigger: run.trigger,
          steps: steps.map((s) => ({
            id: s.stepId,
            type: s.type,
            status: s.status,
            attempts: s.attempts,
            attemptLog: s.attemptLog ?? [],
            input: s.input,
            output: s.output,
            error: s.error ?? null,
            startedAt: s.startedAt,
            finishedAt: s.finishedAt,
          })),
        },
        200,
      );
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
      const run = await getRun(db, p.tenantId, id);
      if (!run) throw new AppError('run_not_found', 'Run not found');
      if (run.status !== 'failed')
        throw new AppError('run_not_retryable', `Only failed runs can be retried; this one is ${run.status}`);
      const wfRow = await requireWorkflow(db, p.tenantId, run.workflowKey);
      // The same version the failed run executed: a retry must not change behaviour under it.
      const version = await getVersion(db, p.tenantId, wfRow.id, run.version);
      if (!version)
        throw new AppError('version_not_found', `Version ${run.version} of workflow "${run.workflowKey}" not found`);
      const slug = (await activeWorkflowBy(db, { tenantId: p.tenantId, key: run.workflowKey }))!.tenant.slug;
      const { runId, init } = await recordRun(c.env, {
        tenant: { id: p.tenantId, slug },
        workflow: { id: wfRow.id, key: wfRow.key, version: run.version },
        definition: version.definition,
        triggerType: 'retry',
        trigger: run.trigger ?? { body: null, headers: {}, query: {} },
        triggerRef: run.id,
        retryOf: run.id,
        seed: await retrySeed(db, p.tenantId, run.id),
      });
      // The run is recorded: if its object cannot be reached now, the sweeper starts it (as for a trigger).
      await kickRun(c.env, init).catch((e) =>
        console.error(
          JSON.stringify({ level: 'error', runId, message: 'run start deferred to sweeper', error: String(e) }),
        ),
      );
      await recordAudit(db, {
        tenantId: p.tenantId,
        actor: actorOf(p),
        action: 'run.retry',
        targetType: 'run',
        targetId: run.id,
        runId,
        context: { retryOf: run.id },
        ...meta(c),
      });
      return c.json({ runId, duplicate: false }, 202);
    },
  );
