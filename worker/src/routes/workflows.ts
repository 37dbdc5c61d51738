/** Workflow definitions: import, drafts, publish, versions, roll back, export. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { actorOf } from '../auth/principal';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { Workflow } from '../workflows/workflow-file';
import { publishChecks, validateChecks } from '../workflows/publish-checks';
import { deleteWorkflow, disableWorkflow, renameWorkflow, runCounts } from '../workflows/workflow-lifecycle';
import { SchedulePreview } from '../workflows/schedule-preview';
import {
  activateVersion,
  assertPublishable,
  exportWorkflow,
  getWorkflowDetail,
  listVersions,
  listWorkflows,
  publish,
  requireWorkflow,
  saveDraft,
  workflowProblems,
} from '../workflows/workflow-service';

const read = { role: 'viewer', scope: 'workflows:read' } as const;
const write = { role: 'editor', scope: 'workflows:write' } as const;

export const WorkflowFile = Workflow.openapi('WorkflowFile', {
  description: 'A workflow file (docs/workflow-file.md)',
});
const KeyParam = z.object({ key: z.string().max(64) });
const VersionParam = KeyParam.extend({ n: z.coerce.number().int().min(1) });
const PublishQuery = z.object({ publish: z.enum(['true', 'false']).optional() });
const SaveResult = z
  .object({
    key: z.string(),
    created: z.boolean(),
    version: z.number().optional().openapi({ description: 'With ?publish=true: the active version' }),
    unchanged: z.boolean().optional().openapi({ description: 'With ?publish=true: nothing new to publish' }),
  })
  .openapi('SaveResult');
const Summary = z
  .object({
    key: z.string(),
    name: z.string(),
    activeVersion: z.number().nullable().openapi({ description: 'The version runs use; null while only a draft' }),
    hookId: z.string(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .openapi('WorkflowSummary');
const Published = z.object({ version: z.number(), unchanged: z.boolean() }).openapi('Published');
const VersionInfo = z
  .object({ version: z.number(), createdBy: z.string(), createdAt: z.number(), active: z.boolean() })
  .openapi('VersionInfo');

// Flat (the summary's fields spread, not `extend`), so the document lists every property in one object.
const Detail = z
  .object({
    ...Summary.shape,
    draft: z.unknown().openapi({ description: 'The draft as last saved: any JSON, not necessarily a valid file' }),
    active: WorkflowFile.nullable().openapi({
      description: "The active version's file, or null before the first publish",
    }),
    schedule: z.object({ active: SchedulePreview.nullable(), draft: SchedulePreview.nullable() }).openapi({
      description: "Next fire times of the active version's and the draft's schedule trigger (null: not a schedule)",
    }),
  })
  .openapi('WorkflowDetail');

function meta(c: Context<AppEnv>) {
  return { actor: actorOf(c.get('principal')!), ip: clientIp(c), requestId: c.get('requestId') };
}

/** The body as sent (cached by Hono), stored verbatim so export is byte-stable. */
const rawBody = (c: Context<AppEnv>) => c.req.json() as Promise<unknown>;

export const workflowRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/import',
      permission: write,
      summary: 'Create or update the draft with this key; ?publish=true also publishes',
      request: { query: PublishQuery, ...jsonBody(WorkflowFile) },
      responses: { 200: jsonResponse(SaveResult), 201: jsonResponse(SaveResult) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      const wf = c.req.valid('json');
      const wantPublish = c.req.valid('query').publish === 'true';
      // All or nothing: a file that cannot be published is not half-imported either.
      if (wantPublish) await assertPublishable(db, p.tenantId, wf, publishChecks(c.env));
      const saved = await saveDraft(db, p.tenantId, await rawBody(c), wf, meta(c), 'workflow.import');
      const published = wantPublish
        ? await publish(db, p.tenantId, saved.key, meta(c), publishChecks(c.env))
        : undefined;
      return c.json({ key: saved.key, created: saved.created, ...published }, saved.created ? 201 : 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/validate',
      permission: { role: 'viewer', scope: 'workflows:read' },
      summary:
        'Every problem of a workflow file (schema, hard-coded credentials, unknown connectors, missing secrets, steps no path reaches), saving nothing',
      request: jsonBody(z.unknown().openapi({ description: 'A workflow file, valid or not' })),
      responses: {
        200: jsonResponse(
          z
            .object({ problems: z.array(z.object({ path: z.string(), message: z.string() })) })
            .openapi('WorkflowProblems'),
        ),
      },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const problems = await workflowProblems(c.get('db'), p.tenantId, await rawBody(c), validateChecks(c.env));
      return c.json({ problems }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/workflows',
      permission: read,
      summary: 'List workflows',
      responses: { 200: jsonResponse(z.object({ workflows: z.array(Summary) })) },
    }),
    async (c) => c.json({ workflows: await listWorkflows(c.get('db'), c.get('principal')!.tenantId) }, 200),
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/workflows/{key}',
      permission: read,
      summary: 'Draft and active version',
      request: { params: KeyParam },
      responses: { 200: jsonResponse(Detail) },
    }),
    async (c) =>
      c.json(await getWorkflowDetail(c.get('db'), c.get('principal')!.tenantId, c.req.valid('param').key), 200),
  )
  .openapi(
    apiRoute({
      method: 'put',
      path: '/workflows/{key}',
      permission: write,
      summary: 'Save the draft of an existing workflow',
      request: { params: KeyParam, ...jsonBody(WorkflowFile) },
      responses: { 200: jsonResponse(SaveResult) },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const wf = c.req.valid('json');
      if (wf.key !== key)
        throw new AppError('invalid_request', `key: the file's key "${wf.key}" does not match the URL's "${key}"`, {
          details: [{ path: 'key', message: 'must match the URL' }],
        });
      const tenantId = c.get('principal')!.tenantId;
      // Saving edits an existing workflow; creating one is what import is for.
      await requireWorkflow(c.get('db'), tenantId, key);
      const saved = await saveDraft(c.get('db'), tenantId, await rawBody(c), wf, meta(c), 'workflow.save');
      return c.json({ key: saved.key, created: saved.created }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'patch',
      path: '/workflows/{key}',
      permission: write,
      summary: "Rename the workflow (the draft's name follows)",
      request: { params: KeyParam, ...jsonBody(z.strictObject({ name: z.string().trim().min(1).max(200) })) },
      responses: { 200: jsonResponse(z.object({ key: z.string(), name: z.string() })) },
    }),
    async (c) =>
      c.json(
        await renameWorkflow(
          c.get('db'),
          c.get('principal')!.tenantId,
          c.req.valid('param').key,
          c.req.valid('json').name,
          meta(c),
        ),
        200,
      ),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/{key}/disable',
      permission: write,
      summary: 'Disable: no version is active, so webhooks, API calls and the schedule start no run',
      request: { params: KeyParam },
      responses: { 200: jsonResponse(z.object({ key: z.string(), activeVersion: z.null() })) },
    }),
    async (c) =>
      c.json(await disableWorkflow(c.get('db'), c.get('principal')!.tenantId, c.req.valid('param').key, meta(c)), 200),
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/workflows/{key}/runs/count',
      permission: read,
      summary: 'How many runs the workflow has (and how many are in flight): what a delete removes',
      request: { params: KeyParam },
      responses: { 200: jsonResponse(z.object({ total: z.number(), inFlight: z.number() })) },
    }),
    async (c) => {
      const tenantId = c.get('principal')!.tenantId;
      const { key } = c.req.valid('param');
      const row = await requireWorkflow(c.get('db'), tenantId, key);
      return c.json(await runCounts(c.env, tenantId, { id: row.id, key }), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/workflows/{key}',
      permission: write,
      summary: 'Delete the workflow with its versions and run history; refused while a run is in flight',
      request: { params: KeyParam },
      responses: {
        200: jsonResponse(z.object({ key: z.string(), deleted: z.literal(true), runsDeleted: z.number() })),
      },
    }),
    async (c) =>
      c.json(
        await deleteWorkflow(c.env, c.get('db'), c.get('principal')!.tenantId, c.req.valid('param').key, meta(c)),
        200,
      ),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/{key}/publish',
      permission: write,
      summary: 'Publish the draft as a new immutable, active version',
      request: { params: KeyParam },
      responses: { 200: jsonResponse(Published) },
    }),
    async (c) =>
      c.json(
        await publish(
          c.get('db'),
          c.get('principal')!.tenantId,
          c.req.valid('param').key,
          meta(c),
          publishChecks(c.env),
        ),
        200,
      ),
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/workflows/{key}/versions',
      permission: read,
      summary: 'Version history, newest first',
      request: { params: KeyParam },
      responses: {
        200: jsonResponse(z.object({ versions: z.array(VersionInfo) })),
      },
    }),
    async (c) =>
      c.json(
        { versions: await listVersions(c.get('db'), c.get('principal')!.tenantId, c.req.valid('param').key) },
        200,
      ),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/{key}/versions/{n}/activate',
      permission: write,
      summary: 'Make an older (or newer) version active: roll back',
      request: { params: VersionParam },
      responses: { 200: jsonResponse(z.object({ version: z.number() })) },
    }),
    async (c) => {
      const { key, n } = c.req.valid('param');
      return c.json(
        await activateVersion(c.get('db'), c.get('principal')!.tenantId, key, n, meta(c), publishChecks(c.env)),
        200,
      );
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/workflows/{key}/export',
      permission: read,
      summary: 'The workflow file (draft, or ?version=N), re-importable unchanged',
      request: { params: KeyParam, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
      responses: { 200: jsonResponse(WorkflowFile) },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const text = await exportWorkflow(c.get('db'), c.get('principal')!.tenantId, key, c.req.valid('query').version);
      return c.body(text, 200, {
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="${key}.json"`,
      }) as never;
    },
  );
