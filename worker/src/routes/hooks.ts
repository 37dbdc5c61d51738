/**
 * Webhooks from third parties (docs/webhooks.md): verify the signature, hand the event to
 * its run object (named after the workflow and delivery id, which stores it durably), answer
 * 202 with the run id. A delivery id seen before answers the same run id and starts nothing.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { MAX_BODY_BYTES } from '../lib/json-limits';
import { recordAudit } from '../audit/audit-log';
import { clientIp } from '../http/request-context';
import { createSecretResolver } from '../secrets/resolver';
import { SecretError } from '../secrets/secret-error';
import { activeWorkflowBy, recordableHeaders, startRun } from '../triggers/start-run';
import { triggerOf } from '../triggers/version-cache';
import { verifyWebhook } from '../triggers/webhook-verify';

const HOOK_ID = /^hk_[A-Za-z0-9_-]{20,64}$/;

export function parseBody(text: string, contentType: string | undefined): unknown {
  if (!text) return null;
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      if (contentType?.includes('json')) throw new AppError('invalid_request', 'Body is not valid JSON');
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  return text;
}

export const hookRoutes = new Hono<AppEnv>().post(
  '/hooks/:hookId',
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new AppError('payload_too_large', `Webhook body larger than ${MAX_BODY_BYTES} bytes`);
    },
  }),
  async (c) => {
    const hookId = c.req.param('hookId');
    if (!HOOK_ID.test(hookId)) throw new AppError('webhook_not_found', 'Unknown webhook');
    const db = c.get('db');
    const wf = await activeWorkflowBy(db, { hookId });
    if (!wf) throw new AppError('webhook_not_found', 'Unknown webhook');
    if (!wf.activeVersion) throw new AppError('workflow_not_published', 'This workflow has no published version yet');
    // The version was validated when published; the hot path reads only its trigger, parsed
    // once per isolate (startRun checks the whole file, also once per isolate and version).
    const trigger = wf.file ? triggerOf(wf.file) : null;
    if (!trigger)
      throw new AppError(
        'version_not_runnable',
        'The active version of this workflow cannot run; publish a fixed version',
      );
    if (trigger.type !== 'webhook')
      throw new AppError('trigger_mismatch', `This workflow is triggered by ${trigger.type}, not by webhooks`);

    // Decoded as UTF-8 whatever the declared type (a form or an odd type is still signed as bytes of text).
    const text = new TextDecoder().decode(await c.req.arrayBuffer());
    const meta = { ip: clientIp(c), requestId: c.get('requestId') };
    const reject = async (reason: string) => {
      await recordAudit(db, {
        tenantId: wf.tenant.id,
        actor: { type: 'anonymous', id: null, label: 'webhook sender' },
        action: 'webhook.rejected',
        targetType: 'workflow',
        targetId: wf.workflow.key,
        context: { reason, hookId },
        ...meta,
      });
      throw new AppError('invalid_signature', `Webhook signature rejected: ${reason}`);
    };

    let secrets: string[] = [];
    if (trigger.verify.scheme !== 'none') {
      try {
        // Read on every delivery: a rotation applies to the very next webhook.
        secrets = await createSecretResolver(c.env, db).resolveSigningSecrets(wf.tenant, trigger.verify.secret, {
          stepId: 'trigger',
          waitUntil: (p) => c.executionCtx.waitUntil(p),
        });
      } catch (e) {
        if (!(e instanceof SecretError)) throw e;
        // The sender did nothing wrong: a 503 makes it retry once the secret is fixed, so nothing is lost.
        await recordAudit(db, {
          tenantId: wf.tenant.id,
          actor: { type: 'system', id: null, label: 'webhook' },
          action: 'webhook.unavailable',
          targetType: 'workflow',
          targetId: wf.workflow.key,
          context: { reason: e.message },
          ...meta,
        });
        throw new AppError(
          'signing_secret_unavailable',
          "The workflow's signing secret is not available; retry later",
          { retryAfterSeconds: 60 },
        );
      }
    }
    const verdict = await verifyWebhook(trigger.verify.scheme, c.req.raw.headers, text, secrets);
    if (!verdict.ok) return reject(verdict.reason);

    // startRun refuses a body past the nesting or size limits (lib/json-limits.ts) with a 4xx naming where.
    const event = {
      body: parseBody(text, c.req.header('content-type')),
      headers: recordableHeaders(c.req.raw.headers),
      query: c.req.query(),
    };
    // Returns once the run object has stored the event: the 202 means it is durable.
    const { runId, duplicate } = await startRun(c.env, {
      ...wf,
      triggerType: 'webhook',
      trigger: event,
      triggerRef: verdict.deliveryId,
      dedup: verdict.deliveryId ? { kind: 'delivery', id: verdict.deliveryId } : undefined,
    });
    return c.json({ runId, duplicate }, 202);
  },
);
