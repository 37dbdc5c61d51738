/**
 * "Forgot password": a single-use link valid 30 minutes, stored hashed. The request is
 * answered before anything is looked up (the lookup, link and mail run after the answer),
 * so the answer, and its timing, are the same whether or not the address has an account.
 * Completing the reset ends every session of the account and sends the browser to the
 * login page: signing in fresh there also passes the second factor, where one is set up.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { accountLinks, sessions, users } from '../db/schema';
import type { Env } from '../env';
import { auditInsert } from '../audit/audit-log';
import { hashPassword } from '../auth/passwords';
import { clearAccount } from '../auth/login-throttle';
import { sendMail } from '../mail/mailer';
import { resetPasswordMail } from '../mail/templates';
import { consumeLink, invalidLink, issueLink, LINK_TTL_MS } from './account-links';

interface Meta {
  ip: string | null;
  requestId: string;
}

/** Runs after the answer: finds the account, issues the link, audits and mails it. */
export async function requestPasswordReset(
  env: Env,
  db: Db,
  input: { email: string; linkFor: (token: string) => string },
  meta: Meta,
): Promise<void> {
  const email = input.email.toLowerCase();
  const user = await db
    .select({ id: users.id, tenantId: users.tenantId, email: users.email })
    .from(users)
    .where(eq(users.email, email))
    .get();
  if (!user) {
    // Filed under no tenant, like a failed login for an unknown address: for operators only.
    await auditInsert(db, {
      tenantId: null,
      actor: { type: 'anonymous', id: null, label: email },
      action: 'auth.password_reset_requested',
      context: { accountExists: false },
      ...meta,
    });
    return;
  }
  const { token, statements } = await issueLink(db, 'reset_password', {
    tenantId: user.tenantId,
    userId: user.id,
    email: user.email,
  });
  await db.batch([
    ...statements,
    auditInsert(db, {
      tenantId: user.tenantId,
      actor: { type: 'anonymous', id: null, label: email },
      action: 'auth.password_reset_requested',
      targetType: 'user',
      targetId: user.id,
      context: { accountExists: true },
      ...meta,
    }),
  ]);
  await sendMail(
    env,
    db,
    resetPasswordMail({ to: user.email, link: input.linkFor(token), minutes: LINK_TTL_MS.reset_password / 60_000 }),
    meta.requestId,
  );
}

/** Sets the new password from a reset link; every session of the account ends. */
export async function completePasswordReset(db: Db, token: string, password: string, meta: Meta) {
  const link = await consumeLink(db, 'reset_password', token);
  const user = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.tenantId, link.tenantId), eq(users.id, link.userId)))
    .get();
  if (!user || user.email !== link.email) throw invalidLink('This link is not valid. Ask for a new one.');
  const passwordHash = await hashPassword(password);
  const now = Date.now();
  const [, , ended] = await db.batch([
    db
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.tenantId, link.tenantId), eq(users.id, user.id))),
    // The link reached the address: that proves it as well as a verification link would.
    db
      .update(users)
      .set({ emailVerifiedAt: now })
      .where(and(eq(users.tenantId, link.tenantId), eq(users.id, user.id), isNull(users.emailVerifiedAt))),
    db.delete(sessions).where(and(eq(sessions.tenantId, link.tenantId), eq(sessions.userId, user.id))),
    db
      .update(accountLinks)
      .set({ usedAt: now })
      .where(
        and(
          eq(accountLinks.tenantId, link.tenantId),
          eq(accountLinks.userId, user.id),
          eq(accountLinks.purpose, 'reset_password'),
          isNull(accountLinks.usedAt),
        ),
      ),
    auditInsert(db, {
      tenantId: link.tenantId,
      actor: { type: 'user', id: user.id, label: user.email },
      action: 'auth.password_reset',
      targetType: 'user',
      targetId: user.id,
      ...meta,
    }),
  ]);
  // A locked-out owner who just proved their address may sign in at once.
  await clearAccount(db, user.email);
  return { email: user.email, sessionsEnded: ended.meta?.changes ?? 0 };
}
