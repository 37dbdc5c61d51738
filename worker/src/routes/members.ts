/**
 * People in a tenant: owners and admins change their roles and remove them. People join by
 * invitation (routes/invitations.ts): nobody types a password for someone else.
 */
import { z } from '@hono/zod-openapi';
import { actorOf, type Principal, ROLES } from '../auth/principal';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, ErrorBody, jsonBody, jsonResponse } from '../http/router';
import { listMembers } from '../tenants/accounts';
import { changeRole, removeMember } from '../tenants/membership';
import type { Context } from 'hono';
import type { AppEnv } from '../context';

const manage = { role: 'admin' } as const;
const Member = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable().openapi({ description: 'As they gave it when accepting their invitation' }),
    role: z.enum(ROLES),
    createdAt: z.number(),
    mfaEnabled: z
      .boolean()
      .optional()
      .openapi({ description: 'Two-factor authentication is on (in `GET /api/members`)' }),
  })
  .openapi('Member');
const MemberParams = z.object({ id: z.string().min(1).max(100) });
const ChangeRoleBody = z
  .strictObject({ role: z.enum(['owner', 'admin', 'editor', 'viewer']) })
  .openapi('ChangeRoleRequest');

/** Who is acting, for the rules only owners pass and for the audit entry. */
function meta(c: Context<AppEnv>) {
  const p = c.get('principal') as Extract<Principal, { type: 'user' }>;
  return { actor: actorOf(p), actorRole: p.role, ip: clientIp(c), requestId: c.get('requestId') };
}

export const memberRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/members',
      permission: manage,
      summary: "List the tenant's people",
      responses: { 200: jsonResponse(z.object({ members: z.array(Member) })) },
    }),
    async (c) => c.json({ members: await listMembers(c.get('db'), c.get('principal')!.tenantId) }, 200),
  )
  .openapi(
    apiRoute({
      method: 'patch',
      path: '/members/{id}',
      permission: manage,
      summary: "Change a member's role",
      description:
        "Only owners make, demote or remove owners; the last owner cannot be demoted (409). The new role applies to the member's next request.",
      request: { params: MemberParams, ...jsonBody(ChangeRoleBody) },
      responses: { 200: jsonResponse(Member), 409: jsonResponse(ErrorBody, 'The last owner cannot be demoted') },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const member = await changeRole(
        c.get('db'),
        p.tenantId,
        c.req.valid('param').id,
        c.req.valid('json').role,
        meta(c),
      );
      return c.json(member, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/members/{id}',
      permission: manage,
      summary: 'Remove a member',
      description:
        'Ends their sessions and revokes the API tokens they created. Only owners remove owners; the last owner cannot be removed (409).',
      request: { params: MemberParams },
      responses: {
        200: jsonResponse(z.object({ id: z.string(), removed: z.literal(true), tokensRevoked: z.number() })),
        409: jsonResponse(ErrorBody, 'The last owner cannot be removed'),
      },
    }),
    async (c) => {
      const p = c.get('principal')!;
      return c.json(await removeMember(c.get('db'), p.tenantId, c.req.valid('param').id, meta(c)), 200);
    },
  );
