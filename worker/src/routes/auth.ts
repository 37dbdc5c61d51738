/** Sign-up, login, logout, me. */
import { z } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { actorOf, ROLES, SCOPES } from '../auth/principal';
import { isAllowedOrigin } from '../auth/middleware';
import { createSession, deleteSession, SESSION_COOKIE, SESSION_TTL_MS } from '../auth/sessions';
import { clearAccount, recordFailure, retryAfterSeconds } from '../auth/login-throttle';
import { checkCredentials, describeTenant, signup } from '../tenants/accounts';
import { createChallenge } from '../auth/mfa/challenges';
import { hasMfa } from '../auth/mfa/mfa-store';
import { mfaRequiredFor } from '../tenants/settings';
import type { Role } from '../auth/principal';
import { requiresSso } from '../sso/sso-config';
import { recordAudit } from '../audit/audit-log';
import { isEmailVerified, sendVerification } from '../accounts/email-verification';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';

const Email = z.email().max(254);
// OWASP: at least 8 with MFA, 15 without; we ask 12 and allow long passphrases.
export const Password = z.string().min(12, 'at least 12 characters').max(256);

const SignupBody = z
  .strictObject({ tenant: z.string().trim().min(1).max(100), email: Email, password: Password })
  .openapi('SignupRequest');
const LoginBody = z.strictObject({ email: Email, password: z.string().min(1).max(256) }).openapi('LoginRequest');
export const Me = z
  .object({
    tenant: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
    user: z
      .object({
        id: z.string(),
        email: z.string(),
        role: z.enum(ROLES),
        emailVerified: z.boolean().optional().openapi({
          description: 'False until the address is confirmed (docs/accounts.md); set by /auth/me and sign-up',
        }),
        mfaEnabled: z.boolean().optional().openapi({ description: 'Two-factor authentication (TOTP) is on' }),
        mfaEnrollmentRequired: z.boolean().optional().openapi({
          description:
            'The team requires two-factor authentication and this session has none: only enrolment is open (docs/accounts.md)',
        }),
      })
      .optional(),
    token: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.enum(SCOPES)) }).optional(),
  })
  .openapi('Me');

const MfaChallenge = z
  .object({
    mfaRequired: z.literal(true),
    challenge: z
      .string()
      .openapi({ description: 'Post it with the code to /api/auth/mfa/verify; valid 5 minutes, once' }),
    expiresAt: z.number(),
  })
  .openapi('MfaChallenge');

export function setSessionCookie(c: Context<AppEnv>, value: string) {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: c.env.ENVIRONMENT !== 'development',
    path: '/',
    maxAge: SESSION_TTL_MS / 1000,
  });
}

/** Login CSRF: a browser form on another site must not sign a victim into an attacker's account. */
export function refuseForeignOrigin(c: Context<AppEnv>) {
  const origin = c.req.header('origin');
  if (origin && !isAllowedOrigin(origin, c.req.url, c.env.ALLOWED_ORIGINS))
    throw new AppError('origin_not_allowed', 'Cross-site request refused');
}

/** A password (and, with MFA, second-factor) sign-in that succeeded: session, cookie, audit entry. */
export async function startSession(
  c: Context<AppEnv>,
  user: { tenantId: string; id: string; email: string; role: Role },
  how: { mfaEnabled: boolean; mfa?: 'totp' | 'recovery_code' },
) {
  const db = c.get('db');
  const session = await createSession(db, user.tenantId, user.id, { method: 'password' });
  await recordAudit(db, {
    tenantId: user.tenantId,
    actor: { type: 'user', id: user.id, label: user.email },
    action: 'auth.login',
    targetType: 'user',
    targetId: user.id,
    ...(how.mfa ? { context: { mfa: how.mfa } } : {}),
    ip: clientIp(c),
    requestId: c.get('requestId'),
  });
  setSessionCookie(c, session.value);
  const tenant = (await describeTenant(db, user.tenantId))!;
  // A new session in a tenant that requires MFA, for a user without it: the studio goes to enrolment.
  const mfaEnrollmentRequired = !how.mfaEnabled && (await mfaRequiredFor(db, user.tenantId));
  return {
    tenant,
    user: { id: user.id, email: user.email, role: user.role, mfaEnabled: how.mfaEnabled, mfaEnrollmentRequired },
  };
}

export const authRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/signup',
      permission: 'public',
      summary: 'Create a tenant and its owner',
      request: jsonBody(SignupBody),
      responses: { 201: jsonResponse(Me, 'Signed up; session cookie set') },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const { tenant, user } = await signup(c.get('db'), c.req.valid('json'), {
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      const session = await createSession(c.get('db'), tenant.id, user.id);
      await sendVerification(c, { tenantId: tenant.id, userId: user.id, email: user.email }, clientIp(c));
      setSessionCookie(c, session.value);
      return c.json({ tenant, user: { ...user, emailVerified: false } }, 201);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/login',
      permission: 'public',
      summary: 'Sign in',
      request: jsonBody(LoginBody),
      description:
        'A user with two-factor authentication gets 202 with a challenge instead of a session: post it with a code to `/api/auth/mfa/verify`.',
      responses: {
        200: jsonResponse(Me, 'Signed in; session cookie set'),
        202: jsonResponse(MfaChallenge, 'Password right; a two-factor code is needed (no session yet)'),
        429: { description: 'Too many failed attempts' },
      },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const db = c.get('db');
      const { email, password } = c.req.valid('json');
      const ip = clientIp(c);
      const meta = { ip, requestId: c.get('requestId') };
      const wait = await retryAfterSeconds(db, email.toLowerCase(), ip);
      if (wait > 0)
        throw new AppError('rate_limited', `Too many failed sign-in attempts; try again in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      const { user, knownTenantId, knownUserId } = await checkCredentials(db, email, password);
      if (!user) {
        await recordFailure(db, email.toLowerCase(), ip);
        await recordAudit(db, {
          tenantId: knownTenantId,
          actor: { type: 'anonymous', id: knownUserId, label: email.toLowerCase() },
          action: 'auth.login_failed',
          targetType: 'user',
          targetId: knownUserId ?? undefined,
          ...meta,
        });
        throw new AppError('invalid_credentials', 'Email or password is wrong');
      }
      await clearAccount(db, user.email);
      // After the password check, so the refusal tells nothing to someone without the password.
      if (await requiresSso(db, user))
        throw new AppError('sso_required', 'Your team signs in with single sign-on: use "Sign in with SSO"');
      if (await hasMfa(db, user.tenantId, user.id)) {
        const { challenge, expiresAt } = await createChallenge(db, user.tenantId, user.id);
        return c.json({ mfaRequired: true as const, challenge, expiresAt }, 202);
      }
      return c.json(await startSession(c, user, { mfaEnabled: false }), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/logout',
      permission: 'public',
      summary: 'Sign out (ends the session)',
      responses: { 200: jsonResponse(z.object({ ok: z.boolean() })) },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const cookie = getCookie(c, SESSION_COOKIE);
      const p = c.get('principal');
      if (cookie) await deleteSession(c.get('db'), cookie);
      if (p)
        await recordAudit(c.get('db'), {
          tenantId: p.tenantId,
          actor: actorOf(p),
          action: 'auth.logout',
          ip: clientIp(c),
          requestId: c.get('requestId'),
        });
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.json({ ok: true }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/auth/me',
      permission: { role: 'viewer', scope: 'any' },
      access: { duringMfaEnrollment: true },
      summary: 'Who am I',
      responses: { 200: jsonResponse(Me) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const db = c.get('db');
      const tenant = (await describeTenant(db, p.tenantId))!;
      if (p.type === 'user') {
        const user = {
          id: p.userId,
          email: p.email,
          role: p.role,
          emailVerified: await isEmailVerified(db, p.tenantId, p.userId),
          mfaEnabled: await hasMfa(db, p.tenantId, p.userId),
          mfaEnrollmentRequired: p.mfaEnrollmentRequired === true,
        };
        return c.json({ tenant, user }, 200);
      }
      return c.json({ tenant, token: { id: p.tokenId, name: p.tokenName, scopes: p.scopes } }, 200);
    },
  );
