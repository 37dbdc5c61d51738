/** Browser sessions: a random cookie value, stored only as its SHA-256. */
import { and, eq, gt, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { sessions, tenants, userMfa, users } from '../db/schema';
import { base64url, randomBytes, sha256Hex } from '../lib/crypto';
import type { Principal, SignInMethod } from './principal';

export const SESSION_COOKIE = 'automate_session';
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export async function createSession(
  db: Db,
  tenantId: string,
  userId: string,
  opts: { method?: SignInMethod } = {},
): Promise<{ value: string; expiresAt: number }> {
  const value = base64url(randomBytes(32));
  const expiresAt = Date.now() + SESSION_TTL_MS;
  await db
    .insert(sessions)
    .values({ idHash: await sha256Hex(value), tenantId, userId, expiresAt, method: opts.method ?? 'password' });
  return { value, expiresAt };
}

/**
 * The session's user, role and restrictions as of now: role changes, MFA enrolment and the
 * tenant's MFA requirement all apply from the next request (one query).
 */
export async function resolveSession(db: Db, value: string): Promise<Principal | null> {
  const row = await db
    .select({
      tenantId: users.tenantId,
      userId: users.id,
      email: users.email,
      role: users.role,
      signInMethod: sessions.method,
      mfaRequired: tenants.mfaRequired,
      mfaEnabledAt: userMfa.enabledAt,
    })
    .from(sessions)
    .innerJoin(users, and(eq(users.id, sessions.userId), eq(users.tenantId, sessions.tenantId)))
    .innerJoin(tenants, eq(tenants.id, sessions.tenantId))
    .leftJoin(
      userMfa,
      and(eq(userMfa.userId, users.id), eq(userMfa.tenantId, users.tenantId), isNotNull(userMfa.enabledAt)),
    )
    .where(and(eq(sessions.idHash, await sha256Hex(value)), gt(sessions.expiresAt, Date.now())))
    .get();
  if (!row) return null;
  const { mfaRequired, mfaEnabledAt, ...user } = row;
  // SSO sign-ins are exempt: the identity provider is where those users prove a second factor.
  const mfaEnrollmentRequired = mfaRequired && mfaEnabledAt === null && user.signInMethod !== 'sso';
  return { type: 'user', ...user, ...(mfaEnrollmentRequired ? { mfaEnrollmentRequired } : {}) };
}

export async function deleteSession(db: Db, value: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, await sha256Hex(value)));
}
