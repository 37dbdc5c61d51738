/**
 * How often anyone may make the Worker mail a link (password reset, verification resend):
 * fixed windows counted in D1, one counter per address and one per client IP, like the
 * login throttle. Counted before anything is looked up, and for unknown addresses too, so
 * a 429 says nothing about whether an account exists.
 */
import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { mailSendCounters } from '../db/schema';

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_PER_ADDRESS = 5;
export const MAX_PER_IP = 30;

const addressKey = (email: string) => `addr:${email.toLowerCase()}`;
const ipKey = (ip: string) => `ip:${ip}`;

/** Counts one request; returns the seconds to wait when the address or the IP is over its limit, else 0. */
export async function takeMailSend(db: Db, email: string, ip: string | null, now = Date.now()): Promise<number> {
  const stale = now - WINDOW_MS;
  const keys = ip ? [addressKey(email), ipKey(ip)] : [addressKey(email)];
  const [first, ...rest] = keys.map((key) =>
    db
      .insert(mailSendCounters)
      .values({ key, windowStart: now, sends: 1 })
      .onConflictDoUpdate({
        target: mailSendCounters.key,
        // An expired window starts over; a live one counts up.
        set: {
          sends: sql`CASE WHEN ${mailSendCounters.windowStart} <= ${stale} THEN 1 ELSE ${mailSendCounters.sends} + 1 END`,
          windowStart: sql`CASE WHEN ${mailSendCounters.windowStart} <= ${stale} THEN ${now} ELSE ${mailSendCounters.windowStart} END`,
        },
      }),
  );
  await db.batch([first, ...rest]);
  const rows = await db.select().from(mailSendCounters).where(inArray(mailSendCounters.key, keys));
  let wait = 0;
  for (const r of rows) {
    const limit = r.key.startsWith('addr:') ? MAX_PER_ADDRESS : MAX_PER_IP;
    if (r.sends > limit) wait = Math.max(wait, Math.ceil((r.windowStart + WINDOW_MS - now) / 1000));
  }
  return wait;
}
