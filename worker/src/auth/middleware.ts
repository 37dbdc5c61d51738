/**
 * Authentication (who) runs on every /api request; authorisation (may they) is
 * declared per route with `requirePermission`. Cookie-authenticated writes must come
 * from our own origin: browsers always send `Origin` on non-GET fetches, so a missing
 * or foreign one is a cross-site request.
 */
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { resolveToken, touchToken } from './api-tokens';
import { check, type Permission } from './principal';
import { resolveSession, SESSION_COOKIE } from './sessions';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isAllowedOrigin(origin: string | undefined, requestUrl: string, allowed: string | undefined): boolean {
  if (!origin) return false;
  if (origin === new URL(requestUrl).origin) return true;
  return (allowed ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .includes(origin);
}

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('principal', null);
  c.set('authVia', null);
  const db = c.get('db');
  const header = c.req.header('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await resolveToken(db, match[1]) : null;
    if (principal?.type !== 'token') throw new AppError('unauthorized', 'Invalid or revoked API token');
    c.set('principal', principal);
    c.set('authVia', 'token');
    c.executionCtx.waitUntil(touchToken(db, principal.tenantId, principal.tokenId).run());
    return next();
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) {
    const principal = await resolveSession(db, cookie);
    if (principal) {
      if (
        !SAFE_METHODS.has(c.req.method) &&
        !isAllowedOrigin(c.req.header('origin'), c.req.url, c.env.ALLOWED_ORIGINS)
      ) {
        throw new AppError('origin_not_allowed', 'Cross-site request refused: Origin header missing or not allowed');
      }
      c.set('principal', principal);
      c.set('authVia', 'cookie');
    }
  }
  return next();
};

export interface RouteAccess {
  /** The route stays open to a session that must enrol MFA first (me, the enrolment routes). */
  duringMfaEnrollment?: boolean;
}

export function requirePermission(need: Permission, access: RouteAccess = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new AppError('unauthorized', 'Sign in or send an API token (Authorization: Bearer ...)');
    if (principal.type === 'user' && principal.mfaEnrollmentRequired && !access.duringMfaEnrollment)
      throw new AppError(
        'mfa_enrollment_required',
        'Your team requires two-factor authentication: set up an authenticator app first (POST /api/auth/mfa/enroll)',
      );
    if (check(principal, need) !== 'ok') {
      const why =
        principal.type === 'token'
          ? need.scope
            ? `API token lacks scope ${need.scope}`
            : 'This route is not available to API tokens'
          : `Requires role ${need.role} or higher`;
      throw new AppError('forbidden', why);
    }
    return next();
  };
}

/** The authenticated principal; only call behind `requirePermission`. */
export function principalOf(c: { get(key: 'principal'): AppEnv['Variables']['principal'] }) {
  const p = c.get('principal');
  if (!p) throw new AppError('unauthorized', 'Not authenticated');
  return p;
}
