/** Stored secrets: owners and admins (or tokens with secrets:write). Values go in, never out. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { actorOf } from '../auth/principal';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, ErrorBody, jsonBody, jsonResponse } from '../http/router';
import { SECRET_KEY_PATTERN } from '../workflows/workflow-file';
import { requireKeyring } from '../secrets/keyring';
import { MASK } from '../secrets/redactor';
import { listSecrets } from '../secrets/secret-list';
import {
  deleteSecret,
  MAX_SECRET_BYTES,
  writeSecret,
  type WriteMode,
  type WriteOptions,
} from '../secrets/secret-store';

const manage = { role: 'admin', scope: 'secrets:write' } as const;
const encoder = new TextEncoder();

const KeyParam = z.object({
  key: z
    .string()
    .regex(SECRET_KEY_PATTERN, 'secret keys are UPPER_SNAKE_CASE, e.g. ERP_API_KEY')
    .openapi({ example: 'ERP_API_KEY' }),
});
// Messages say what is wrong with the value, never what it is.
const ValueBody = z
  .strictObject({
    value: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .refine(
        (v) => encoder.encode(v).byteLength <= MAX_SECRET_BYTES,
        `must be at most ${MAX_SECRET_BYTES} bytes (UTF-8)`,
      )
      .openapi({ description: 'The secret value; write-only, never returned' }),
  })
  .openapi('SecretValue');
const RotateBody = ValueBody.extend({
  keepPrevious: z.boolean({ error: 'must be true or false' }).optional().openapi({
    description:
      'Keep accepting webhook signatures made with the replaced value for 24 hours (default true), as Stripe and Standard Webhooks senders do; false ends that at once, e.g. after a leak. Steps always get the new value.',
  }),
}).openapi('SecretRotation');
const PreviousValidUntil = z.number().nullable().openapi({
  description:
    'Until when (epoch ms) the value replaced by the last rotation still verifies webhook signatures; null when it no longer does',
});
const Mask = z.literal(MASK).openapi({ description: 'Always the mask: values are never returned' });
const UsedBy = z.object({
  workflow: z.string(),
  version: z.union([z.number(), z.literal('draft')]),
  step: z.string().nullable(),
  field: z.string(),
});
const SecretSummary = z
  .object({
    key: z.string(),
    backend: z.enum(['stored', 'env']),
    value: Mask,
    version: z.number().nullable(),
    createdAt: z.number().nullable(),
    rotatedAt: z.number().nullable(),
    lastUsedAt: z.number().nullable(),
    previousValidUntil: PreviousValidUntil,
    granted: z
      .boolean()
      .optional()
      .openapi({ description: 'env only: the operator granted this key to the tenant (AUTOMATE_ENV_GRANTS)' }),
    set: z
      .boolean()
      .optional()
      .openapi({ description: 'env only, when granted: the Worker variable AUTOMATE_<KEY> is set' }),
    usedBy: z.array(UsedBy).openapi({ description: 'Drafts and active versions referring to it' }),
  })
  .openapi('SecretSummary');
const WriteResult = z
  .object({
    key: z.string(),
    backend: z.literal('stored'),
    value: Mask,
    version: z.number(),
    createdAt: z.number(),
    rotatedAt: z.number().nullable(),
    previousValidUntil: PreviousValidUntil,
  })
  .openapi('SecretWriteResult');

function meta(c: Context<AppEnv>) {
  return { actor: actorOf(c.get('principal')!), ip: clientIp(c), requestId: c.get('requestId') };
}

async function write(c: Context<AppEnv>, key: string, value: string, mode: WriteMode, opts: WriteOptions = {}) {
  // The deployment is missing its master key: the operator's to fix, not the caller's.
  const ring = await requireKeyring(c.env);
  const p = c.get('principal')!;
  const r = await writeSecret(c.get('db'), ring, p.tenantId, key, value, mode, meta(c), opts);
  return {
    result: {
      key: r.key,
      backend: 'stored' as const,
      value: MASK as typeof MASK,
      version: r.version,
      createdAt: r.createdAt,
      rotatedAt: r.rotatedAt,
      previousValidUntil: r.previousValidUntil,
    },
    created: r.created,
  };
}

export const secretRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/secrets',
      permission: manage,
      summary: 'List secrets (never their values) with who uses them',
      responses: { 200: jsonResponse(z.object({ secrets: z.array(SecretSummary) })) },
    }),
    async (c) => c.json({ secrets: await listSecrets(c.env, c.get('db'), c.get('principal')!.tenantId) }, 200),
  )
  .openapi(
    apiRoute({
      method: 'put',
      path: '/secrets/{key}',
      permission: manage,
      summary: 'Create a stored secret, or replace its value (a new version)',
      request: { params: KeyParam, ...jsonBody(ValueBody) },
      responses: { 200: jsonResponse(WriteResult, 'Replaced'), 201: jsonResponse(WriteResult, 'Created') },
    }),
    async (c) => {
      const { result, created } = await write(c, c.req.valid('param').key, c.req.valid('json').value, 'put');
      return c.json(result, created ? 201 : 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/secrets/{key}/rotate',
      permission: manage,
      summary:
        "Replace an existing secret's value; the next step that uses it gets the new one, and webhook signatures made with the old one are still accepted for 24 hours unless keepPrevious is false",
      request: { params: KeyParam, ...jsonBody(RotateBody) },
      responses: { 200: jsonResponse(WriteResult, 'Rotated') },
    }),
    async (c) => {
      const { value, keepPrevious } = c.req.valid('json');
      return c.json((await write(c, c.req.valid('param').key, value, 'rotate', { keepPrevious })).result, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/secrets/{key}',
      permission: manage,
      summary: 'Delete a stored secret, unless an active workflow version uses it',
      request: { params: KeyParam },
      responses: {
        200: jsonResponse(z.object({ key: z.string(), deleted: z.literal(true), version: z.number() })),
        409: {
          description: 'Used by active workflows; `details` names each',
          content: { 'application/json': { schema: ErrorBody } },
        },
      },
    }),
    async (c) => {
      const r = await deleteSecret(c.get('db'), c.get('principal')!.tenantId, c.req.valid('param').key, meta(c));
      return c.json({ key: r.key, deleted: true as const, version: r.version }, 200);
    },
  );
