/**
 * Login rate limiting: fixed windows of failed attempts, one counter per account and
 * one per client address. Checked before the password is verified, so a locked
 * account costs an attacker nothing to learn but also gains them nothing. Wrong MFA codes
 * (sign-in challenges, enrolment, disabling) count on their own per-user counter and on
 * the address's (the same counter failed passwords use). Counting: lib/rate-windows.ts.
 */
import type { Db } from '../db/client';
import { clear, type Counter, hit, waitFor } from '../lib/rate-windows';

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 10;
export const MAX_FAILURES_PER_ADDRESS = 50;
/** Wrong MFA codes per user per window: 10 guesses at 3 valid codes in a million. */
export const MAX_MFA_FAILURES_PER_USER = 10;

const account = (email: string): Counter => ({
  key: `login:acct:${email}`,
  limit: MAX_FAILURES_PER_ACCOUNT,
  windowMs: WINDOW_MS,
});
const mfaUser = (userId: string): Counter => ({
  key: `login:mfa:${userId}`,
  limit: MAX_MFA_FAILURES_PER_USER,
  windowMs: WINDOW_MS,
});
const address = (ip: string): Counter => ({
  key: `login:ip:${ip}`,
  limit: MAX_FAILURES_PER_ADDRESS,
  windowMs: WINDOW_MS,
});

const withAddress = (first: Counter, ip: string | null) => (ip ? [first, address(ip)] : [first]);

/** Seconds until the caller may try again, or 0 when not limited. */
export function retryAfterSeconds(db: Db, email: string, ip: string | null): Promise<number> {
  return waitFor(db, withAddress(account(email), ip));
}

export async function recordFailure(db: Db, email: string, ip: string | null): Promise<void> {
  await hit(db, withAddress(account(email), ip));
}

/** Seconds until this user may try another MFA code, or 0. */
export function mfaRetryAfterSeconds(db: Db, userId: string, ip: string | null): Promise<number> {
  return waitFor(db, withAddress(mfaUser(userId), ip));
}

export async function recordMfaFailure(db: Db, userId: string, ip: string | null): Promise<void> {
  await hit(db, withAddress(mfaUser(userId), ip));
}

export function clearMfaFailures(db: Db, userId: string): Promise<void> {
  return clear(db, mfaUser(userId).key);
}

export function clearAccount(db: Db, email: string): Promise<void> {
  return clear(db, account(email).key);
}
