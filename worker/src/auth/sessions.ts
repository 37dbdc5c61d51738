/** Browser sessions: a random cookie value, stored only as its SHA-256. */
import { and, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { sessions, users } from '../db/schema';
import { base64url, randomBytes, sha256Hex } from '../lib/crypto';
import type { Principal } from './principal';

export const SESSION_COOKIE = 'automate_session';
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export async function createSession(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<{ value: string; expiresAt: number }> {
  const value = base64url(randomBytes(32));
  const expiresAt = Date.now() + SESSION_TTL_MS;
  await db.insert(sessions).values({ idHash: await sha256Hex(value), tenantId, userId, expiresAt });
  return { value, expiresAt };
}

export async function resolveSession(db: Db, value: string): Promise<Principal | null> {
  const row = await db
    .select({ tenantId: users.tenantId, userId: users.id, email: users.email, role: users.role })
    .from(sessions)
    .innerJoin(users, and(eq(users.id, sessions.userId), eq(users.tenantId, sessions.tenantId)))
    .where(and(eq(sessions.idHash, await sha256Hex(value)), gt(sessions.expiresAt, Date.now())))
    .get();
  return row ? { type: 'user', ...row } : null;
}

export async function deleteSession(db: Db, value: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, await sha256Hex(value)));
}
