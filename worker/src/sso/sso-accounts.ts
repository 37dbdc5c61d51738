/**
 * Who an SSO-verified address is in Automate: the existing member of the configuring
 * tenant, or a just-in-time account with the tenant's default role. One account per email
 * across the platform, so an address that belongs to another team is refused rather than
 * moved or duplicated.
 */
import { eq } from 'drizzle-orm';
import { claimInvitation, pendingInvitationFor } from '../accounts/invitations';
import { auditInsert } from '../audit/audit-log';
import { hashPassword } from '../auth/passwords';
import type { Role } from '../auth/principal';
import type { Db } from '../db/client';
import { users } from '../db/schema';
import { AppError } from '../errors';
import { base64url, newId, randomBytes } from '../lib/crypto';
import { SsoRefusal } from './login-flow';
import type { SsoConfig } from './sso-config';

export interface SsoUser {
  id: string;
  tenantId: string;
  email: string;
  role: Role;
  created: boolean;
}

const findUser = (db: Db, email: string) =>
  db
    .select({ id: users.id, tenantId: users.tenantId, email: users.email, role: users.role })
    .from(users)
    .where(eq(users.email, email))
    .get();

export async function accountForSso(
  db: Db,
  config: SsoConfig,
  identity: { email: string; subject: string; name: string | null },
  meta: { ip: string | null; requestId: string },
): Promise<SsoUser> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await findUser(db, identity.email);
    if (existing) {
      if (existing.tenantId !== config.tenantId)
        throw new SsoRefusal(
          'other_tenant',
          'This address already has an account in another team; ask that team to remove it first',
          config.tenantId,
          identity.email,
        );
      return { ...existing, created: false };
    }
    // An unguessable password: the account signs in through SSO; a password reset can give it one.
    const passwordHash = await hashPassword(base64url(randomBytes(32)));
    // Invited to this team: the invitation's role, and the invitation is used up (audited as its accept).
    const invitation = await pendingInvitationFor(db, config.tenantId, identity.email);
    try {
      if (invitation) {
        const { user } = await claimInvitation(db, invitation, { name: identity.name, passwordHash, via: 'sso' }, meta);
        return { id: user.id, tenantId: config.tenantId, email: user.email, role: user.role, created: true };
      }
      const now = Date.now();
      const user = {
        id: newId('usr'),
        tenantId: config.tenantId,
        email: identity.email,
        name: identity.name,
        passwordHash,
        role: config.defaultRole as Role,
        createdAt: now,
        // The provider vouched for the address (email_verified, or its own directory).
        emailVerifiedAt: now,
      };
      await db.batch([
        db.insert(users).values(user),
        auditInsert(db, {
          tenantId: config.tenantId,
          actor: { type: 'user', id: user.id, label: user.email },
          action: 'auth.sso.account_created',
          targetType: 'user',
          targetId: user.id,
          context: { email: user.email, role: user.role, issuer: config.issuer, subject: identity.subject },
          ...meta,
        }),
      ]);
      return { id: user.id, tenantId: user.tenantId, email: user.email, role: user.role, created: true };
    } catch (e) {
      // Created at the same moment by a racing sign-in, sign-up or accept: look again.
      const raced =
        (e instanceof AppError && (e.code === 'email_taken' || e.code === 'invalid_link')) ||
        String((e as Error)?.message ?? e).includes('UNIQUE') ||
        String((e as Error)?.cause).includes('UNIQUE');
      if (!raced) throw e;
    }
  }
  throw new SsoRefusal(
    'other_tenant',
    'This address was just taken by another sign-up',
    config.tenantId,
    identity.email,
  );
}
