/**
 * Invitations: owners and admins invite by email with a role; the invitee opens the mailed
 * link, chooses a name and password and joins signed in (docs/accounts.md).
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { actorOf, type Principal, ROLES } from '../auth/principal';
import { hashPassword } from '../auth/passwords';
import { createSession } from '../auth/sessions';
import {
  acceptInvitation,
  createInvitation,
  INVITATION_TTL_MS,
  inspectInvitation,
  listInvitations,
  revokeInvitation,
} from '../accounts/invitations';
import { describeTenant } from '../tenants/accounts';
import { takeMailSend } from '../accounts/mail-throttle';
import { AppError } from '../errors';
import { deliver, studioLink } from '../mail/mailer';
import { invitationMail } from '../mail/templates';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { Password, refuseForeignOrigin, setSessionCookie } from './auth';
import { LinkToken } from './email-verification';

const manage = { role: 'admin' } as const;

const Invitation = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(ROLES),
    invitedBy: z.string().nullable(),
    createdAt: z.number(),
    expiresAt: z.number(),
    expired: z.boolean(),
  })
  .openapi('Invitation');
const InviteBody = z
  .strictObject({
    email: z.email().max(254),
    role: z.enum(ROLES).openapi({ description: 'Not above your own role: only owners invite owners' }),
  })
  .openapi('InviteRequest');
const TokenBody = z.strictObject({ token: LinkToken }).openapi('InvitationTokenRequest');
const AcceptBody = z
  .strictObject({ token: LinkToken, name: z.string().trim().min(1).max(100), password: Password })
  .openapi('AcceptInvitationRequest');
const IdParam = z.object({ id: z.string().min(1).max(100) });

function meta(c: Context<AppEnv>) {
  return { ip: clientIp(c), requestId: c.get('requestId') };
}

/** Invitations are managed by people: tokens never reach these routes (the permission has no scope). */
function inviter(c: Context<AppEnv>) {
  const p = c.get('principal') as Extract<Principal, { type: 'user' }>;
  return { actor: actorOf(p), role: p.role };
}

export const invitationRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/invitations',
      permission: manage,
      summary: 'Pending invitations (not accepted or revoked); expired ones say so',
      responses: { 200: jsonResponse(z.object({ invitations: z.array(Invitation) })) },
    }),
    async (c) => c.json({ invitations: await listInvitations(c.get('db'), c.get('principal')!.tenantId) }, 200),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/invitations',
      permission: manage,
      summary: 'Invite someone by email with a role',
      description: `Mails a single-use link valid ${INVITATION_TTL_MS / 86_400_000} days; the answer never contains it. A pending invitation to the same address is replaced. 409 \`email_taken\` when the address already has an account; 403 for a role above your own; 429 past 5 mails to one address in 15 minutes.`,
      request: jsonBody(InviteBody),
      responses: { 201: jsonResponse(Invitation) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      const by = inviter(c);
      const body = c.req.valid('json');
      // Per address only: a team onboarding many people from one office must not hit an IP limit.
      const wait = await takeMailSend(db, body.email, null);
      if (wait > 0)
        throw new AppError('rate_limited', `Too many mails to ${body.email}; try again in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      const { token, invitation } = await createInvitation(db, p.tenantId, body, by, meta(c));
      const tenant = (await describeTenant(db, p.tenantId))!;
      deliver(
        c,
        invitationMail({
          to: invitation.email,
          link: studioLink(c, 'invite', token),
          tenantName: tenant.name,
          inviter: by.actor.label ?? 'A team owner',
          role: invitation.role,
          days: INVITATION_TTL_MS / 86_400_000,
        }),
      );
      return c.json(invitation, 201);
    },
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/invitations/{id}',
      permission: manage,
      summary: 'Revoke an invitation; its link stops working at once',
      description: "Only owners revoke an owner invitation. Another tenant's invitation is 404.",
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.object({ id: z.string(), revoked: z.literal(true) })) },
    }),
    async (c) =>
      c.json(
        await revokeInvitation(c.get('db'), c.get('principal')!.tenantId, c.req.valid('param').id, inviter(c), meta(c)),
        200,
      ),
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/invitation',
      permission: 'public',
      summary: 'What an invitation link invites to',
      description: 'For the accept page: the team, address and role. 400 `invalid_link` when it cannot be accepted.',
      request: jsonBody(TokenBody),
      responses: {
        200: jsonResponse(
          z
            .object({
              tenant: z.object({ name: z.string() }),
              email: z.string(),
              role: z.enum(ROLES),
              invitedBy: z.string().nullable(),
              expiresAt: z.number(),
            })
            .openapi('InvitationPreview'),
        ),
      },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const inv = await inspectInvitation(c.get('db'), c.req.valid('json').token, meta(c));
      return c.json(
        {
          tenant: { name: inv.tenantName },
          email: inv.email,
          role: inv.role,
          invitedBy: inv.invitedBy,
          expiresAt: inv.expiresAt,
        },
        200,
      );
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/invitation/accept',
      permission: 'public',
      summary: 'Accept an invitation: choose a name and password, join signed in',
      description:
        'Creates the account in the inviting team with the invited role, its address counted as confirmed, and sets the session cookie.',
      request: jsonBody(AcceptBody),
      responses: {
        201: jsonResponse(
          z
            .object({
              tenant: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
              user: z.object({ id: z.string(), email: z.string(), role: z.enum(ROLES), emailVerified: z.boolean() }),
            })
            .openapi('AcceptedInvitation'),
          'Joined; session cookie set',
        ),
      },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const db = c.get('db');
      const body = c.req.valid('json');
      const { tenant: joined, user } = await acceptInvitation(
        db,
        body.token,
        { name: body.name, passwordHash: await hashPassword(body.password), via: 'password' },
        meta(c),
      );
      const tenant = (await describeTenant(db, joined.id))!;
      const session = await createSession(db, tenant.id, user.id);
      setSessionCookie(c, session.value);
      return c.json({ tenant, user: { id: user.id, email: user.email, role: user.role, emailVerified: true } }, 201);
    },
  );
