/**
 * Drafts per tenant in fixed one-minute windows, counted in D1 (one row per tenant),
 * so the limit holds across isolates. Counted before drafting: a model call costs
 * whether or not it succeeds.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { copilotUsage } from '../db/schema';

export const WINDOW_MS = 60_000;
export const DEFAULT_DRAFTS_PER_MINUTE = 20;

export function draftsPerMinute(setting: string | undefined): number {
  const n = Number(setting);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_DRAFTS_PER_MINUTE;
}

/** Counts one draft; returns the seconds to wait when the tenant is over its limit, else 0. */
export async function takeDraft(db: Db, tenantId: string, limit: number, now = Date.now()): Promise<number> {
  const stale = now - WINDOW_MS;
  const row = await db
    .insert(copilotUsage)
    .values({ tenantId, windowStart: now, drafts: 1 })
    .onConflictDoUpdate({
      target: copilotUsage.tenantId,
      // An expired window starts over; a live one counts up.
      set: {
        drafts: sql`CASE WHEN ${copilotUsage.windowStart} <= ${stale} THEN 1 ELSE ${copilotUsage.drafts} + 1 END`,
        windowStart: sql`CASE WHEN ${copilotUsage.windowStart} <= ${stale} THEN ${now} ELSE ${copilotUsage.windowStart} END`,
      },
    })
    .returning()
    .get();
  if (row.drafts <= limit) return 0;
  return Math.max(1, Math.ceil((row.windowStart + WINDOW_MS - now) / 1000));
}
