/**
 * Login rate limiting: fixed windows of failed attempts, one counter per account and
 * one per client address. Checked before the password is verified, so a locked
 * account costs an attacker nothing to learn but also gains them nothing.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { loginAttempts } from '../db/schema';

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 10;
export const MAX_FAILURES_PER_ADDRESS = 50;

const accountKey = (email: string) => `acct:${email}`;
const addressKey = (ip: string) => `ip:${ip}`;

function keys(email: string, ip: string | null) {
  return ip ? [accountKey(email), addressKey(ip)] : [accountKey(email)];
}

/** Seconds until the caller may try again, or 0 when not limited. */
export async function retryAfterSeconds(db: Db, email: string, ip: string | null): Promise<number> {
  const now = Date.now();
  const rows = await db
    .select()
    .from(loginAttempts)
    .where(inArray(loginAttempts.key, keys(email, ip)));
  let wait = 0;
  for (const r of rows) {
    const limit = r.key.startsWith('acct:') ? MAX_FAILURES_PER_ACCOUNT : MAX_FAILURES_PER_ADDRESS;
    if (r.windowStart + WINDOW_MS > now && r.failures >= limit)
      wait = Math.max(wait, Math.ceil((r.windowStart + WINDOW_MS - now) / 1000));
  }
  return wait;
}

export async function recordFailure(db: Db, email: string, ip: string | null): Promise<void> {
  const now = Date.now();
  const stale = now - WINDOW_MS;
  const [first, ...rest] = keys(email, ip).map((key) =>
    db
      .insert(loginAttempts)
      .values({ key, windowStart: now, failures: 1 })
      .onConflictDoUpdate({
        target: loginAttempts.key,
        // An expired window starts over; a live one counts up.
        set: {
          failures: sql`CASE WHEN ${loginAttempts.windowStart} < ${stale} THEN 1 ELSE ${loginAttempts.failures} + 1 END`,
          windowStart: sql`CASE WHEN ${loginAttempts.windowStart} < ${stale} THEN ${now} ELSE ${loginAttempts.windowStart} END`,
        },
      }),
  );
  await db.batch([first, ...rest]);
}

export async function clearAccount(db: Db, email: string): Promise<void> {
  await db.delete(loginAttempts).where(eq(loginAttempts.key, accountKey(email)));
}
