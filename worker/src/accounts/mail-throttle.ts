/**
 * How often anyone may make the Worker mail a link (password reset, verification resend,
 * invitation): fixed windows counted in D1 (lib/rate-windows.ts), one counter per address
 * and one per client IP, like the login throttle but counted apart from it. Counted before
 * anything is looked up, and for unknown addresses too, so a 429 says nothing about whether
 * an account exists.
 */
import type { Db } from '../db/client';
import { type Counter, hit } from '../lib/rate-windows';

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_PER_ADDRESS = 5;
export const MAX_PER_IP = 30;

const address = (email: string): Counter => ({
  key: `mail:addr:${email.toLowerCase()}`,
  limit: MAX_PER_ADDRESS,
  windowMs: WINDOW_MS,
});
const client = (ip: string): Counter => ({ key: `mail:ip:${ip}`, limit: MAX_PER_IP, windowMs: WINDOW_MS });

/** Counts one request; returns the seconds to wait when the address or the IP is over its limit, else 0. */
export function takeMailSend(db: Db, email: string, ip: string | null, now = Date.now()): Promise<number> {
  return hit(db, ip ? [address(email), client(ip)] : [address(email)], now);
}
