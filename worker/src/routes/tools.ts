/** Authoring tools: the connector catalog, the Rule Tester, dry runs, webhook URLs. */
import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { catalog } from '../../../connectors';
import { actorOf } from '../auth/principal';
import { auditInsert } from '../audit/audit-log';
import { workflows } from '../db/schema';
import { ApiError } from '../errors';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { dryRun } from '../run/dry-run';
import { evaluateRule, RuleError } from '../run/rules';
import { newHookId, parseWorkflowFile, requireWorkflow } from '../workflows/workflow-service';
import { describeTenant } from '../tenants/accounts';
import { SchedulePreview, schedulePreview } from '../workflows/schedule-preview';

const RuleTestBody = z
  .strictObject({ rule: z.union([z.record(z.string(), z.unknown()), z.boolean()]), data: z.unknown().optional() })
  .openapi('RuleTestRequest');
const KeyParam = z.object({ key: z.string().max(64) });
const DryRunResult = z
  .object({
    status: z.string(),
    path: z.array(z.string()).openapi({ description: 'Steps that ran, in order' }),
    steps: z.array(
      z.object({
        id: z.string(),
        type: z.string(),
        status: z.string(),
        input: z.unknown().optional(),
        output: z.unknown().optional(),
        error: z.string().optional(),
        wouldCall: z
          .object({ connector: z.string(), action: z.string(), params: z.unknown() })
          .optional()
          .openapi({ description: 'The call an action would make, secrets masked' }),
      }),
    ),
    notes: z.array(z.string()),
    schedule: SchedulePreview.nullable().openapi({ description: "The draft's next fire times, if it is a schedule" }),
  })
  .openapi('DryRunResult');

export const toolRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/connectors',
      permission: { role: 'viewer', scope: 'workflows:read' },
      summary: "Connector catalog with each action's input and output JSON Schemas",
      responses: { 200: jsonResponse(z.object({ connectors: z.array(z.record(z.string(), z.unknown())) })) },
    }),
    (c) => c.json({ connectors: catalog() as unknown as Record<string, unknown>[] }, 200),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/rules/test',
      permission: { role: 'editor', scope: 'workflows:read' },
      summary: 'Rule Tester: evaluate a JSONLogic rule against sample data',
      request: jsonBody(RuleTestBody),
      responses: { 200: jsonResponse(z.object({ result: z.unknown(), passed: z.boolean() })) },
    }),
    (c) => {
      const { rule, data } = c.req.valid('json');
      try {
        return c.json(evaluateRule(rule, data ?? {}), 200);
      } catch (e) {
        if (e instanceof RuleError)
          throw new ApiError('BAD_REQUEST', `rule: ${e.message}`, { details: [{ path: 'rule', message: e.message }] });
        throw e;
      }
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/{key}/test',
      permission: { role: 'editor', scope: 'workflows:write' },
      summary:
        'Dry run of the draft with a sample payload: path taken and the params each action would get (secrets masked); calls no connector',
      request: { params: KeyParam, ...jsonBody(z.strictObject({ payload: z.unknown().optional() })) },
      responses: { 200: jsonResponse(DryRunResult) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const { key } = c.req.valid('param');
      const row = await requireWorkflow(c.get('db'), p.tenantId, key);
      const draft = JSON.parse(row.draft);
      parseWorkflowFile(draft);
      const tenant = (await describeTenant(c.get('db'), p.tenantId))!;
      const report = dryRun(draft, c.req.valid('json').payload, { tenant, key, version: row.activeVersion ?? 0 });
      return c.json({ ...report, schedule: schedulePreview(draft) }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/workflows/{key}/hook',
      permission: { role: 'editor', scope: 'workflows:write' },
      summary: 'Regenerate the webhook URL; the old one stops working at once',
      request: { params: KeyParam },
      responses: { 200: jsonResponse(z.object({ hookId: z.string(), url: z.string() })) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      const { key } = c.req.valid('param');
      const row = await requireWorkflow(db, p.tenantId, key);
      const hookId = newHookId();
      await db.batch([
        db
          .update(workflows)
          .set({ hookId, updatedAt: Date.now() })
          .where(and(eq(workflows.tenantId, p.tenantId), eq(workflows.id, row.id))),
        auditInsert(db, {
          tenantId: p.tenantId,
          actor: actorOf(p),
          action: 'workflow.hook_regenerated',
          targetType: 'workflow',
          targetId: key,
          ip: clientIp(c),
          requestId: c.get('requestId'),
        }),
      ]);
      return c.json({ hookId, url: `${new URL(c.req.url).origin}/hooks/${hookId}` }, 200);
    },
  );
