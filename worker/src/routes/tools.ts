/** Authoring tools: the connector catalog, the Rule Tester, dry runs, webhook URLs. */
import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { catalog } from '../../../connectors';
import { actorOf } from '../auth/principal';
import { auditInsert } from '../audit/audit-log';
import { workflows } from '../db/schema';
import { AppError } from '../errors';
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
// A JSON Schema document (draft 2020-12) as the connector SDK derives it from an action's zod schemas.
const JsonSchema = z.record(z.string(), z.unknown()).openapi({ description: 'JSON Schema' });
const Connector = z
  .object({
    code: z.string(),
    name: z.string(),
    description: z.string(),
    secrets: z.array(z.string()).openapi({ description: 'Secret names the connector asks for' }),
    settings: z
      .array(z.string())
      .openapi({ description: 'Operator settings (Worker variables CONNECTOR_<CODE>_<NAME>)' }),
    actions: z.array(z.object({ name: z.string(), description: z.string(), inputs: JsonSchema, outputs: JsonSchema })),
  })
  .openapi('Connector');
const RuleResult = z
  .object({ result: z.unknown().openapi({ description: "The rule's value: any JSON" }), passed: z.boolean() })
  .openapi('RuleResult');
const DryRunResult = z
  .object({
    status: z.enum(['running', 'succeeded', 'failed']),
    path: z.array(z.string()).openapi({ description: 'Steps that ran, in order' }),
    steps: z.array(
      z.object({
        id: z.string(),
        type: z.string(),
        status: z.enum(['pending', 'ready', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped']),
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
      responses: { 200: jsonResponse(z.object({ connectors: z.array(Connector) })) },
    }),
    (c) => c.json({ connectors: catalog() }, 200),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/rules/test',
      permission: { role: 'editor', scope: 'workflows:read' },
      summary: 'Rule Tester: evaluate a JSONLogic rule against sample data',
      request: jsonBody(RuleTestBody),
      responses: { 200: jsonResponse(RuleResult) },
    }),
    (c) => {
      const { rule, data } = c.req.valid('json');
      try {
        return c.json(evaluateRule(rule, data ?? {}), 200);
      } catch (e) {
        if (e instanceof RuleError)
          throw new AppError('invalid_rule', `rule: ${e.message}`, { details: [{ path: 'rule', message: e.message }] });
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
      responses: { 200: jsonResponse(z.object({ hookId: z.string(), url: z.string() }).openapi('WebhookUrl')) },
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
