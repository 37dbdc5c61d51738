/**
 * Login rate limiting: fixed windows of failed attempts, one counter per account and
 * one per client address. Checked before the password is verified, so a locked
 * account costs an attacker nothing to learn but also gains them nothing. Wrong MFA codes
 * (sign-in challenges, enrolment, disabling) count on their own per-user counter and on
 * the address's.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { loginAttempts } from '../db/schema';

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 10;
export const MAX_FAILURES_PER_ADDRESS = 50;
/** Wrong MFA codes per user per window: 10 guesses at 3 valid codes in a million. */
export const MAX_MFA_FAILURES_PER_USER = 10;

const accountKey = (email: string) => `acct:${email}`;
const addressKey = (ip: string) => `ip:${ip}`;
const mfaKey = (userId: string) => `mfa:${userId}`;

function keys(first: string, ip: string | null) {
  return ip ? [first, addressKey(ip)] : [first];
}

function limitOf(key: string) {
  if (key.startsWith('acct:')) return MAX_FAILURES_PER_ACCOUNT;
  if (key.startsWith('mfa:')) return MAX_MFA_FAILURES_PER_USER;
  return MAX_FAILURES_PER_ADDRESS;
}

async function waitFor(db: Db, keyList: string[]): Promise<number> {
  const now = Date.now();
  const rows = await db.select().from(loginAttempts).where(inArray(loginAttempts.key, keyList));
  let wait = 0;
  for (const r of rows) {
    if (r.windowStart + WINDOW_MS > now && r.failures >= limitOf(r.key))
      wait = Math.max(wait, Math.ceil((r.windowStart + WINDOW_MS - now) / 1000));
  }
  return wait;
}

/** Seconds until the caller may try again, or 0 when not limited. */
export function retryAfterSeconds(db: Db, email: string, ip: string | null): Promise<number> {
  return waitFor(db, keys(accountKey(email), ip));
}

export function recordFailure(db: Db, email: string, ip: string | null): Promise<void> {
  return countFailure(db, keys(accountKey(email), ip));
}

/** Seconds until this user may try another MFA code, or 0. */
export function mfaRetryAfterSeconds(db: Db, userId: string, ip: string | null): Promise<number> {
  return waitFor(db, keys(mfaKey(userId), ip));
}

export function recordMfaFailure(db: Db, userId: string, ip: string | null): Promise<void> {
  return countFailure(db, keys(mfaKey(userId), ip));
}

export async function clearMfaFailures(db: Db, userId: string): Promise<void> {
  await db.delete(loginAttempts).where(eq(loginAttempts.key, mfaKey(userId)));
}

async function countFailure(db: Db, keyList: string[]): Promise<void> {
  const now = Date.now();
  const stale = now - WINDOW_MS;
  const [first, ...rest] = keyList.map((key) =>
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
