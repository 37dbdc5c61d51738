/** The AI copilot: a sentence in, a workflow draft out (docs/copilot.md). Nothing is saved. */
import { z } from '@hono/zod-openapi';
import { actorOf } from '../auth/principal';
import { recordAudit } from '../audit/audit-log';
import { draftWorkflow } from '../copilot/draft-service';
import { draftsPerMinute, takeDraft } from '../copilot/rate-limit';
import { AppError } from '../errors';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, ErrorBody, jsonBody, jsonResponse } from '../http/router';
import { describeTenant } from '../tenants/accounts';
import { findHardcodedCredentials } from '../workflows/credential-scan';
import { refuseHardcodedCredentials } from '../workflows/workflow-service';
import { Workflow } from '../workflows/workflow-file';
import { WorkflowFile } from './workflows';

export const MAX_PROMPT_CHARS = 2000;

const DraftRequest = z
  .strictObject({
    prompt: z.string().trim().min(3, 'describe the workflow in a few words').max(MAX_PROMPT_CHARS),
    workflow: Workflow.optional().openapi({ description: 'A draft to change instead of starting over' }),
  })
  .openapi('CopilotDraftRequest');

const DraftResponse = z
  .object({
    workflow: WorkflowFile.openapi({ description: 'The draft: a workflow file that imports as is; not saved' }),
    notes: z.array(z.string()),
    provider: z.string(),
  })
  .openapi('CopilotDraft');

export const copilotRoutes = createRouter().openapi(
  apiRoute({
    method: 'post',
    path: '/copilot/draft',
    permission: { role: 'editor', scope: 'workflows:write' },
    summary: 'Draft a workflow from a sentence, or change a given draft; nothing is saved',
    description: `The built-in provider works offline; COPILOT_PROVIDER picks a model (docs/copilot.md). Rate limited per tenant; \`prompt\` is at most ${MAX_PROMPT_CHARS} characters.`,
    request: jsonBody(DraftRequest),
    responses: {
      200: jsonResponse(DraftResponse),
      429: { description: 'Too many drafts; see Retry-After', content: { 'application/json': { schema: ErrorBody } } },
    },
  }),
  async (c) => {
    const p = c.get('principal')!;
    const db = c.get('db');
    const body = c.req.valid('json');
    // A model must never see a secret value: refuse one typed into the prompt or left in the draft.
    if (findHardcodedCredentials({ prompt: body.prompt }).length)
      throw new AppError(
        'hardcoded_credential',
        'The prompt contains what looks like a credential; store it as a secret and name the secret instead',
        {
          details: [{ path: 'prompt', message: 'looks like a credential (value not shown)' }],
        },
      );
    if (body.workflow) refuseHardcodedCredentials({ workflow: body.workflow });
    const wait = await takeDraft(db, p.tenantId, draftsPerMinute(c.env.COPILOT_DRAFTS_PER_MINUTE));
    if (wait > 0)
      throw new AppError('rate_limited', `Too many drafts for this workspace; try again in ${wait} s`, {
        retryAfterSeconds: wait,
      });
    const tenant = (await describeTenant(db, p.tenantId))!;
    const audit = (provider: string, outcome: string) =>
      recordAudit(db, {
        tenantId: p.tenantId,
        actor: actorOf(p),
        action: 'copilot.draft',
        targetType: 'copilot',
        context: { prompt: body.prompt, provider, outcome, edit: !!body.workflow },
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
    let result: Awaited<ReturnType<typeof draftWorkflow>>;
    try {
      result = await draftWorkflow(
        { prompt: body.prompt, workflow: body.workflow },
        { env: c.env, db, tenant: { id: tenant.id, slug: tenant.slug } },
      );
    } catch (e) {
      await audit(c.env.COPILOT_PROVIDER ?? 'builtin', 'error');
      throw e;
    }
    await audit(result.provider, result.outcome);
    return c.json({ workflow: result.workflow, notes: result.notes, provider: result.provider }, 200);
  },
);
