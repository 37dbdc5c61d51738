/**
 * Changing and removing members. The rules: a tenant always keeps an owner (the last one
 * can be neither demoted nor removed, themselves included); only owners make, demote or
 * remove owners. A removed member's sessions end and the API tokens they created are
 * revoked in the same batch, so nothing they held keeps working.
 */
import { and, eq, isNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { apiTokens, sessions, users } from '../db/schema';
import { AppError } from '../errors';
import { auditInsert } from '../audit/audit-log';
import type { Actor, Role } from '../auth/principal';

interface Meta {
  actor: Actor;
  actorRole: Role;
  ip: string | null;
  requestId: string;
}

async function findMember(db: Db, tenantId: string, id: string) {
  const row = await db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, createdAt: users.createdAt })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)))
    .get();
  if (!row) throw new AppError('member_not_found', 'Member not found');
  return row;
}

function requireOwnerFor(meta: Meta, what: string) {
  if (meta.actorRole !== 'owner') throw new AppError('forbidden', `Only an owner can ${what}`);
}

const LAST_OWNER = 'A team needs at least one owner: make someone else owner first';

/**
 * True while the member is not an owner or another owner remains. Every write below
 * carries it, so two owners demoting each other at once cannot both succeed.
 */
const keepsAnOwner = (tenantId: string, id: string) =>
  or(
    ne(users.role, 'owner'),
    sql`(SELECT count(*) FROM users o WHERE o.tenant_id = ${tenantId} AND o.role = 'owner' AND o.id != ${id}) > 0`,
  );

const memberStillOk = (tenantId: string, id: string) =>
  sql`EXISTS (SELECT 1 FROM users WHERE tenant_id = ${tenantId} AND id = ${id} AND (role != 'owner' OR (SELECT count(*) FROM users o WHERE o.tenant_id = ${tenantId} AND o.role = 'owner' AND o.id != ${id}) > 0))`;

export async function changeRole(db: Db, tenantId: string, id: string, role: Role, meta: Meta) {
  const member = await findMember(db, tenantId, id);
  if (role === 'owner') requireOwnerFor(meta, 'make someone an owner');
  if (member.role === 'owner') requireOwnerFor(meta, "change an owner's role");
  if (member.role === role) return member;
  const res = await db
    .update(users)
    .set({ role })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id), keepsAnOwner(tenantId, id)))
    .run();
  if ((res.meta?.changes ?? 0) === 0) throw new AppError('last_owner', LAST_OWNER);
  await auditInsert(db, {
    tenantId,
    actor: meta.actor,
    action: 'member.role_change',
    targetType: 'user',
    targetId: id,
    context: { email: member.email, from: member.role, to: role },
    ip: meta.ip,
    requestId: meta.requestId,
  });
  return { ...member, role };
}

export async function removeMember(db: Db, tenantId: string, id: string, meta: Meta) {
  const member = await findMember(db, tenantId, id);
  if (member.role === 'owner') requireOwnerFor(meta, 'remove an owner');
  const ok = memberStillOk(tenantId, id);
  const [, revoked, removed] = await db.batch([
    db.delete(sessions).where(and(eq(sessions.tenantId, tenantId), eq(sessions.userId, id), ok)),
    db
      .update(apiTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.createdBy, id), isNull(apiTokens.revokedAt), ok)),
    db.delete(users).where(and(eq(users.tenantId, tenantId), eq(users.id, id), keepsAnOwner(tenantId, id))),
  ]);
  if ((removed.meta?.changes ?? 0) === 0) throw new AppError('last_owner', LAST_OWNER);
  const tokensRevoked = revoked.meta?.changes ?? 0;
  await auditInsert(db, {
    tenantId,
    actor: meta.actor,
    action: 'member.remove',
    targetType: 'user',
    targetId: id,
    context: { email: member.email, role: member.role, tokensRevoked },
    ip: meta.ip,
    requestId: meta.requestId,
  });
  return { id, removed: true as const, tokensRevoked };
}
