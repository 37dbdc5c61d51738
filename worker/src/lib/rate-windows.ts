/**
 * Fixed-window counters in D1: the one way the Worker rate-limits (sign-in failures and
 * wrong MFA codes in auth/login-throttle.ts, mailed links in accounts/mail-throttle.ts,
 * copilot drafts in copilot/rate-limit.ts). D1, not isolate memory, so a limit holds across
 * isolates and locations. One table, `rate_windows`; keys are `<purpose>:<kind>:<subject>`,
 * so the purposes never share a count unless they share a key on purpose.
 *
 * The rule: a window opens at its first hit and lasts `windowMs`. It is live while
 * now < resets_at; from resets_at on it is stale (its last instant belongs to the next
 * window), and the next hit starts a new window at 1. A wait is the window's time left in
 * whole seconds, rounded up, so never 0 while limited.
 *
 * Stale rows are harmless to counting (a hit overwrites them) but would pile up, one per
 * address or account ever seen: the minute cron deletes them (pruneExpiredWindows).
 */
import { asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { rateWindows } from '../db/schema';

export interface Counter {
  /** `<purpose>:<kind>:<subject>`, e.g. `login:ip:203.0.113.7`. */
  key: string;
  /** Hits a window allows; the one after it is refused. */
  limit: number;
  windowMs: number;
}

/** Whole seconds until `resetsAt`, rounded up. */
export const secondsUntil = (resetsAt: number, now: number) => Math.ceil((resetsAt - now) / 1000);

/**
 * Counts one hit on each counter, all in one D1 batch. Returns the seconds to wait when this
 * hit took any counter past its limit (the longest wait of those), else 0.
 */
export async function hit(db: Db, counters: Counter[], now = Date.now()): Promise<number> {
  if (!counters.length) return 0;
  const [first, ...rest] = counters.map((c) => {
    const stale = sql`${rateWindows.resetsAt} <= ${now}`;
    return db
      .insert(rateWindows)
      .values({ key: c.key, count: 1, resetsAt: now + c.windowMs })
      .onConflictDoUpdate({
        target: rateWindows.key,
        set: {
          count: sql`CASE WHEN ${stale} THEN 1 ELSE ${rateWindows.count} + 1 END`,
          resetsAt: sql`CASE WHEN ${stale} THEN ${now + c.windowMs} ELSE ${rateWindows.resetsAt} END`,
        },
      })
      .returning();
  });
  const rows = (await db.batch([first, ...rest])).flat();
  return longestWait(counters, rows, now, (count, limit) => count > limit);
}

/**
 * For checking before counting: the seconds to wait while any counter's live window has
 * used up its limit (so one more hit would be refused), else 0. Counts nothing.
 */
export async function waitFor(db: Db, counters: Counter[], now = Date.now()): Promise<number> {
  if (!counters.length) return 0;
  const rows = await db
    .select()
    .from(rateWindows)
    .where(
      inArray(
        rateWindows.key,
        counters.map((c) => c.key),
      ),
    )
    .all();
  return longestWait(counters, rows, now, (count, limit) => count >= limit);
}

function longestWait(
  counters: Counter[],
  rows: { key: string; count: number; resetsAt: number }[],
  now: number,
  limited: (count: number, limit: number) => boolean,
): number {
  const limitOf = new Map(counters.map((c) => [c.key, c.limit]));
  let wait = 0;
  for (const r of rows) {
    const limit = limitOf.get(r.key);
    if (limit === undefined || r.resetsAt <= now || !limited(r.count, limit)) continue;
    wait = Math.max(wait, secondsUntil(r.resetsAt, now));
  }
  return wait;
}

/** Ends the key's window, as if it had never been hit. */
export async function clear(db: Db, key: string): Promise<void> {
  await db.delete(rateWindows).where(eq(rateWindows.key, key));
}

/** Stale windows deleted per statement, oldest first. */
export const PRUNE_CHUNK = 500;
/** Stale windows deleted per cron tick: 7.2 million a day, far beyond new keys' pace. */
export const PRUNE_BUDGET = 5_000;

/**
 * One cron tick of pruning: deletes windows that ended at or before `now`, in chunks, until
 * none is left or the budget is spent. Returns how many went and whether some are left.
 */
export async function pruneExpiredWindows(
  db: Db,
  now: number,
  { budget = PRUNE_BUDGET, chunk = PRUNE_CHUNK } = {},
): Promise<{ windows: number; more: boolean }> {
  let pruned = 0;
  while (pruned < budget) {
    const size = Math.min(chunk, budget - pruned);
    // One statement per chunk: D1 runs it alone, so no hit can land between the choice and the delete.
    const expired = db
      .select({ key: rateWindows.key })
      .from(rateWindows)
      .where(lte(rateWindows.resetsAt, now))
      .orderBy(asc(rateWindows.resetsAt))
      .limit(size);
    const gone = await db
      .delete(rateWindows)
      .where(inArray(rateWindows.key, expired))
      .returning({ key: rateWindows.key });
    pruned += gone.length;
    if (gone.length < size) return { windows: pruned, more: false };
  }
  const left = await db
    .select({ key: rateWindows.key })
    .from(rateWindows)
    .where(lte(rateWindows.resetsAt, now))
    .limit(1);
  return { windows: pruned, more: left.length > 0 };
}
