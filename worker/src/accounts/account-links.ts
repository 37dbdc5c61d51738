/**
 * Single-use links mailed to an account (email verification, password reset): a token of
 * 32 random bytes in the link, its SHA-256 in D1, an expiry, and a `used_at` set by one
 * conditional update so that two clicks cannot both succeed.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { accountLinks } from '../db/schema';
import { AppError } from '../errors';
import { base64url, randomBytes, sha256Hex } from '../lib/crypto';

export type LinkPurpose = 'verify_email' | 'reset_password';

export const LINK_TTL_MS: Record<LinkPurpose, number> = {
  verify_email: 48 * 3600 * 1000,
  reset_password: 30 * 60 * 1000,
};

export const newLinkToken = () => base64url(randomBytes(32));

/**
 * A new link for this account. Earlier unused links of the same purpose stop working: only
 * the newest mail's link counts. Returns the token (for the mail only) and the statements.
 */
export async function issueLink(
  db: Db,
  purpose: LinkPurpose,
  account: { tenantId: string; userId: string; email: string },
  now = Date.now(),
) {
  const token = newLinkToken();
  const statements = [
    db
      .update(accountLinks)
      .set({ usedAt: now })
      .where(
        and(
          eq(accountLinks.tenantId, account.tenantId),
          eq(accountLinks.userId, account.userId),
          eq(accountLinks.purpose, purpose),
          isNull(accountLinks.usedAt),
        ),
      ),
    db.insert(accountLinks).values({
      tokenHash: await sha256Hex(token),
      purpose,
      tenantId: account.tenantId,
      userId: account.userId,
      email: account.email,
      expiresAt: now + LINK_TTL_MS[purpose],
      createdAt: now,
    }),
  ] as const;
  return { token, statements };
}

export const invalidLink = (why: string) => new AppError('invalid_link', why);

/**
 * Marks the link used and returns whose it is; refuses (invalid_link) a forged, used,
 * expired or superseded one. Exactly one caller wins a race for the same token.
 */
export async function consumeLink(db: Db, purpose: LinkPurpose, token: string, now = Date.now()) {
  const tokenHash = await sha256Hex(token);
  const row = await db
    .select()
    .from(accountLinks)
    .where(and(eq(accountLinks.tokenHash, tokenHash), eq(accountLinks.purpose, purpose)))
    .get();
  if (!row) throw invalidLink('This link is not valid. Ask for a new one.');
  if (row.usedAt !== null)
    throw invalidLink('This link was already used or replaced by a newer one. Ask for a new one.');
  if (row.expiresAt <= now) throw invalidLink('This link has expired. Ask for a new one.');
  const res = await db
    .update(accountLinks)
    .set({ usedAt: now })
    .where(and(eq(accountLinks.tokenHash, tokenHash), isNull(accountLinks.usedAt), gt(accountLinks.expiresAt, now)))
    .run();
  if ((res.meta?.changes ?? 0) === 0) throw invalidLink('This link was already used. Ask for a new one.');
  return row;
}
