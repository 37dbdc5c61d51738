/**
 * Invitations: owners and admins invite an address with a role (never above their own, so
 * only owners invite owners); the invitee follows the mailed link, chooses a name and a
 * password, and joins signed in. Links are single use, expire after 7 days and are stored
 * as SHA-256 only. An address that already has an account cannot be invited (one account
 * per email across the platform).
 *
 * The accept path is split so that other ways of proving who one is (single sign-on) can
 * reuse it: `inspectInvitation` says what a token invites to, `acceptInvitation` turns it
 * into an account with whatever password hash the caller brings.
 */
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { invitations, tenants, users } from '../db/schema';
import { AppError } from '../errors';
import { newId, sha256Hex } from '../lib/crypto';
import { auditInsert } from '../audit/audit-log';
import { type Actor, ROLES, type Role } from '../auth/principal';
import { invalidLink, newLinkToken } from './account-links';

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

interface Meta {
  ip: string | null;
  requestId: string;
}

const emailTaken = () =>
  new AppError('email_taken', 'An account with this email already exists; they can sign in with it instead');

const pending = (tenantId: string) =>
  and(eq(invitations.tenantId, tenantId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt));

const summary = {
  id: invitations.id,
  email: invitations.email,
  role: invitations.role,
  invitedBy: invitations.invitedByLabel,
  createdAt: invitations.createdAt,
  expiresAt: invitations.expiresAt,
};

/** Creates the invitation (replacing a pending one to the same address) and returns the link's token. */
export async function createInvitation(
  db: Db,
  tenantId: string,
  input: { email: string; role: Role },
  by: { actor: Actor; role: Role },
  meta: Meta,
) {
  if (ROLES.indexOf(input.role) > ROLES.indexOf(by.role))
    throw new AppError('forbidden', `You cannot invite someone as ${input.role}: that is above your own role`);
  const email = input.email.toLowerCase();
  const taken = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (taken) throw emailTaken();
  const now = Date.now();
  const token = newLinkToken();
  const row = {
    id: newId('inv'),
    tenantId,
    email,
    role: input.role,
    tokenHash: await sha256Hex(token),
    invitedBy: by.actor.id ?? '',
    invitedByLabel: by.actor.label,
    createdAt: now,
    expiresAt: now + INVITATION_TTL_MS,
  };
  const replaced = await db
    .select({ id: invitations.id })
    .from(invitations)
    .where(and(pending(tenantId), eq(invitations.email, email)))
    .all();
  await db.batch([
    db
      .update(invitations)
      .set({ revokedAt: now })
      .where(and(pending(tenantId), eq(invitations.email, email))),
    db.insert(invitations).values(row),
    auditInsert(db, {
      tenantId,
      actor: by.actor,
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: row.id,
      context: { email, role: input.role, ...(replaced.length ? { replaces: replaced.map((r) => r.id) } : {}) },
      ...meta,
    }),
  ]);
  return {
    token,
    invitation: {
      id: row.id,
      email,
      role: row.role,
      invitedBy: row.invitedByLabel,
      createdAt: now,
      expiresAt: row.expiresAt,
      expired: false,
    },
  };
}

/** Invitations not yet accepted or revoked, newest first; expired ones say so (revoke them or invite again). */
export async function listInvitations(db: Db, tenantId: string, now = Date.now()) {
  const rows = await db.select(summary).from(invitations).where(pending(tenantId)).orderBy(desc(invitations.createdAt));
  return rows.map((r) => ({ ...r, expired: r.expiresAt <= now }));
}

export async function revokeInvitation(
  db: Db,
  tenantId: string,
  id: string,
  by: { actor: Actor; role: Role },
  meta: Meta,
) {
  const row = await db
    .select(summary)
    .from(invitations)
    .where(and(pending(tenantId), eq(invitations.id, id)))
    .get();
  if (!row) throw new AppError('invitation_not_found', 'Invitation not found (or already accepted or revoked)');
  if (ROLES.indexOf(row.role) > ROLES.indexOf(by.role))
    throw new AppError('forbidden', `Only an owner can revoke an invitation as ${row.role}`);
  const now = Date.now();
  await db.batch([
    db
      .update(invitations)
      .set({ revokedAt: now })
      .where(and(pending(tenantId), eq(invitations.id, id))),
    auditInsert(db, {
      tenantId,
      actor: by.actor,
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: id,
      context: { email: row.email, role: row.role },
      ...meta,
    }),
  ]);
  return { id, revoked: true as const };
}

/**
 * What a token invites to, if it can still be accepted; refuses (invalid_link) a forged,
 * used, revoked or expired one. An expired link's use is audited to its tenant.
 */
export async function inspectInvitation(db: Db, token: string, meta: Meta, now = Date.now()) {
  const row = await db
    .select({
      id: invitations.id,
      tenantId: invitations.tenantId,
      tenantName: tenants.name,
      email: invitations.email,
      role: invitations.role,
      invitedBy: invitations.invitedByLabel,
      expiresAt: invitations.expiresAt,
      acceptedAt: invitations.acceptedAt,
      revokedAt: invitations.revokedAt,
    })
    .from(invitations)
    .innerJoin(tenants, eq(tenants.id, invitations.tenantId))
    .where(eq(invitations.tokenHash, await sha256Hex(token)))
    .get();
  if (!row) throw invalidLink('This invitation link is not valid. Ask for a new invitation.');
  if (row.acceptedAt !== null) throw invalidLink('This invitation was already accepted. Sign in instead.');
  if (row.revokedAt !== null) throw invalidLink('This invitation was withdrawn. Ask for a new invitation.');
  if (row.expiresAt <= now) {
    await auditInsert(db, {
      tenantId: row.tenantId,
      actor: { type: 'anonymous', id: null, label: row.email },
      action: 'invitation.expired_use',
      targetType: 'invitation',
      targetId: row.id,
      context: { email: row.email, role: row.role, expiredAt: row.expiresAt },
      ...meta,
    });
    throw invalidLink('This invitation has expired. Ask for a new invitation.');
  }
  const { acceptedAt: _a, revokedAt: _r, ...invitation } = row;
  return invitation;
}

/**
 * Turns the invitation into an account in its tenant with its role, its address counted as
 * verified (the link reached it). `passwordHash` is what the account signs in with; a caller
 * that authenticates people otherwise (single sign-on) passes a hash no password matches.
 * Exactly one of two racing accepts wins; the loser gets invalid_link.
 */
export async function acceptInvitation(
  db: Db,
  token: string,
  input: { name: string | null; passwordHash: string; via: 'password' | 'sso' },
  meta: Meta,
) {
  return claimInvitation(db, await inspectInvitation(db, token, meta), input, meta);
}

type Invitation = Awaited<ReturnType<typeof inspectInvitation>>;

/**
 * The tenant's pending, unexpired invitation of this address, or null. For single sign-on,
 * where the provider has proven the address as the mailed link would have.
 */
export async function pendingInvitationFor(
  db: Db,
  tenantId: string,
  email: string,
  now = Date.now(),
): Promise<Invitation | null> {
  const row = await db
    .select({
      id: invitations.id,
      tenantId: invitations.tenantId,
      tenantName: tenants.name,
      email: invitations.email,
      role: invitations.role,
      invitedBy: invitations.invitedByLabel,
      expiresAt: invitations.expiresAt,
    })
    .from(invitations)
    .innerJoin(tenants, eq(tenants.id, invitations.tenantId))
    .where(and(pending(tenantId), eq(invitations.email, email.toLowerCase()), gt(invitations.expiresAt, now)))
    .orderBy(desc(invitations.createdAt))
    .get();
  return row ?? null;
}

/** `acceptInvitation` for an invitation already looked up (by its link, or by single sign-on). */
export async function claimInvitation(
  db: Db,
  inv: Invitation,
  input: { name: string | null; passwordHash: string; via: 'password' | 'sso' },
  meta: Meta,
) {
  const taken = await db.select({ id: users.id }).from(users).where(eq(users.email, inv.email)).get();
  if (taken) throw emailTaken();
  const now = Date.now();
  const user = {
    id: newId('usr'),
    tenantId: inv.tenantId,
    email: inv.email,
    name: input.name,
    passwordHash: input.passwordHash,
    role: inv.role,
    createdAt: now,
    emailVerifiedAt: now,
  };
  const claim = await db
    .update(invitations)
    .set({ acceptedAt: now, acceptedUserId: user.id })
    .where(and(eq(invitations.id, inv.id), pending(inv.tenantId), gt(invitations.expiresAt, now)))
    .run();
  if ((claim.meta?.changes ?? 0) === 0) throw invalidLink('This invitation was already accepted. Sign in instead.');
  try {
    await db.batch([
      db.insert(users).values(user),
      auditInsert(db, {
        tenantId: inv.tenantId,
        actor: { type: 'user', id: user.id, label: user.email },
        action: 'invitation.accept',
        targetType: 'invitation',
        targetId: inv.id,
        context: { email: user.email, role: user.role, via: input.via, invitedBy: inv.invitedBy },
        ...meta,
      }),
    ]);
  } catch (e) {
    // Someone signed up with this address in between: give the invitation back, say why.
    await db
      .update(invitations)
      .set({ acceptedAt: null, acceptedUserId: null })
      .where(and(eq(invitations.tenantId, inv.tenantId), eq(invitations.id, inv.id)));
    if (String(e).includes('UNIQUE') || String((e as { cause?: unknown })?.cause ?? '').includes('UNIQUE'))
      throw emailTaken();
    throw e;
  }
  return {
    tenant: { id: inv.tenantId, name: inv.tenantName },
    user: { id: user.id, email: user.email, role: user.role, name: user.name },
  };
}
