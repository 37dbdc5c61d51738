/** Tenant API tokens: owners and admins manage them in a browser session; tokens cannot mint tokens. */
import { z } from '@hono/zod-openapi';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { actorOf, DEFAULT_TOKEN_SCOPES, SCOPES } from '../auth/principal';
import { createToken, findActiveToken, insertToken, listTokens, revokeToken } from '../auth/api-tokens';
import { auditInsert } from '../audit/audit-log';
import { requireVerifiedEmail } from '../accounts/email-verification';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import type { Context } from 'hono';

const manage = { role: 'admin' } as const;

const CreateTokenBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .optional()
      .openapi({ description: `Default: ${DEFAULT_TOKEN_SCOPES.join(', ')}` }),
  })
  .openapi('CreateTokenRequest');
const TokenSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.number(),
    lastUsedAt: z.number().nullable(),
    revokedAt: z.number().nullable(),
  })
  .openapi('TokenSummary');
const IdParam = z.object({ id: z.string().max(100) });

function meta(c: Context<AppEnv>) {
  return { ip: clientIp(c), requestId: c.get('requestId') };
}

export const tokenRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'post',
      path: '/tokens',
      permission: manage,
      summary: 'Create an API token (its value is shown once)',
      description: 'Refused (403 `email_not_verified`) until the signed-in user has confirmed their email address.',
      request: jsonBody(CreateTokenBody),
      responses: {
        201: jsonResponse(
          z
            .object({
              id: z.string(),
              name: z.string(),
              token: z.string().openapi({ description: 'The value: returned this once, never again' }),
              scopes: z.array(z.enum(SCOPES)),
            })
            .openapi('CreatedToken'),
        ),
      },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      // A token outlives the session: only an account whose address is proven may mint one.
      if (p.type === 'user') await requireVerifiedEmail(db, p.tenantId, p.userId);
      const body = c.req.valid('json');
      const scopes = [...new Set(body.scopes ?? DEFAULT_TOKEN_SCOPES)];
      const actor = actorOf(p);
      const { row, token } = await createToken(db, p.tenantId, body.name, scopes, actor.id!);
      await db.batch([
        insertToken(db, row),
        auditInsert(db, {
          tenantId: p.tenantId,
          actor,
          action: 'token.create',
          targetType: 'token',
          targetId: row.id,
          context: { name: row.name, scopes, prefix: row.prefix },
          ...meta(c),
        }),
      ]);
      return c.json({ id: row.id, name: row.name, token, scopes }, 201);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/tokens',
      permission: manage,
      summary: 'List API tokens (never their values)',
      responses: { 200: jsonResponse(z.object({ tokens: z.array(TokenSummary) })) },
    }),
    async (c) => c.json({ tokens: await listTokens(c.get('db'), c.get('principal')!.tenantId) }, 200),
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/tokens/{id}',
      permission: manage,
      summary: 'Revoke an API token; it stops working at once',
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.object({ id: z.string(), revoked: z.boolean() }).openapi('RevokedToken')) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      const { id } = c.req.valid('param');
      const token = await findActiveToken(db, p.tenantId, id);
      if (!token) throw new AppError('token_not_found', 'Token not found');
      await db.batch([
        revokeToken(db, p.tenantId, id),
        auditInsert(db, {
          tenantId: p.tenantId,
          actor: actorOf(p),
          action: 'token.revoke',
          targetType: 'token',
          targetId: id,
          context: { name: token.name },
          ...meta(c),
        }),
      ]);
      return c.json({ id, revoked: true }, 200);
    },
  );
