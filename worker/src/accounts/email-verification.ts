/**
 * Email verification: sign-up mails a link; following it marks the address proven.
 * Until then the account signs in as usual but cannot create API tokens (403
 * email_not_verified), so a typo'd or someone else's address cannot mint credentials.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import type { Db } from '../db/client';
import { users } from '../db/schema';
import { AppError } from '../errors';
import { auditInsert } from '../audit/audit-log';
import { deliver, studioLink } from '../mail/mailer';
import { verifyEmailMail } from '../mail/templates';
import { consumeLink, invalidLink, issueLink, LINK_TTL_MS } from './account-links';

interface Account {
  tenantId: string;
  userId: string;
  email: string;
}

/** Issues a verification link, audits it and mails it (after the answer). */
export async function sendVerification(c: Context<AppEnv>, account: Account, ip: string | null) {
  const db = c.get('db');
  const { token, statements } = await issueLink(db, 'verify_email', account);
  await db.batch([
    ...statements,
    auditInsert(db, {
      tenantId: account.tenantId,
      actor: { type: 'user', id: account.userId, label: account.email },
      action: 'auth.verification_sent',
      targetType: 'user',
      targetId: account.userId,
      context: { email: account.email },
      ip,
      requestId: c.get('requestId'),
    }),
  ]);
  deliver(
    c,
    verifyEmailMail({
      to: account.email,
      link: studioLink(c, 'verify', token),
      hours: LINK_TTL_MS.verify_email / 3600_000,
    }),
  );
}

export async function isEmailVerified(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const row = await db
    .select({ at: users.emailVerifiedAt })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
    .get();
  return row?.at != null;
}

export async function requireVerifiedEmail(db: Db, tenantId: string, userId: string): Promise<void> {
  if (!(await isEmailVerified(db, tenantId, userId)))
    throw new AppError(
      'email_not_verified',
      'Confirm your email address first: follow the link we mailed you (or send it again from the banner)',
    );
}

/** Follows a verification link: the address it was sent to is now proven. */
export async function confirmEmail(db: Db, token: string, meta: { ip: string | null; requestId: string }) {
  const link = await consumeLink(db, 'verify_email', token);
  const user = await db
    .select({ id: users.id, email: users.email, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(and(eq(users.tenantId, link.tenantId), eq(users.id, link.userId)))
    .get();
  // The account's address changed since the mail went out: the link proves nothing now.
  if (!user || user.email !== link.email) throw invalidLink('This link is not valid. Ask for a new one.');
  const now = Date.now();
  await db.batch([
    db
      .update(users)
      .set({ emailVerifiedAt: now })
      .where(and(eq(users.tenantId, link.tenantId), eq(users.id, user.id), isNull(users.emailVerifiedAt))),
    auditInsert(db, {
      tenantId: link.tenantId,
      actor: { type: 'user', id: user.id, label: user.email },
      action: 'auth.email_verified',
      targetType: 'user',
      targetId: user.id,
      context: { email: user.email },
      ...meta,
    }),
  ]);
  return { email: user.email };
}
