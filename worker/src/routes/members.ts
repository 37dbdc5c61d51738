/** People in a tenant: owners and admins add members with a role. */
import { z } from '@hono/zod-openapi';
import { actorOf, ROLES } from '../auth/principal';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { addMember, listMembers } from '../tenants/accounts';

const manage = { role: 'admin' } as const;
const Member = z
  .object({ id: z.string(), email: z.string(), role: z.enum(ROLES), createdAt: z.number() })
  .openapi('Member');
const AddMemberBody = z
  .strictObject({
    email: z.email().max(254),
    password: z
      .string()
      .min(12, 'at least 12 characters')
      .max(256)
      .openapi({ description: 'Initial password; the member should change it' }),
    role: z.enum(['admin', 'editor', 'viewer']),
  })
  .openapi('AddMemberRequest');

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
      method: 'post',
      path: '/members',
      permission: manage,
      summary: 'Add a member with a role',
      request: jsonBody(AddMemberBody),
      responses: { 201: jsonResponse(Member) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const member = await addMember(c.get('db'), p.tenantId, c.req.valid('json'), {
        actor: actorOf(p),
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      return c.json(member, 201);
    },
  );
