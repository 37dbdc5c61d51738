/**
 * Retention of the runs still in D1 from before the run index (legacy-rows.ts; the index
 * prunes its own runs on its alarm): the minute cron removes each tenant's finished runs
 * older than its retention (worker/src/tenants/settings.ts), with their step records, their
 * dedup rows (webhook_events, schedule_slots) and the engine's per-attempt audit rows, before
 * the import (legacy-import.ts) would carry them into the index only to be pruned there.
 * Governance entries (who published, retried, rotated, changed settings) stay. Work per tick
 * is bounded, oldest runs first, so a backlog drains over several ticks without holding
 * the single D1 writer for long (docs/retention.md).
 */
import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { runs, tenants } from '../db/schema';
import { DAY_MS, DEFAULT_RUN_RETENTION_DAYS } from '../tenants/settings';
import { deleteLegacyRuns } from './legacy-rows';

/** Runs removed per D1 batch (one transaction; ids travel as one JSON parameter). */
export const PRUNE_CHUNK = 100;
/** Runs removed per cron tick, across all tenants: 1.44 million a day at most. */
export const PRUNE_BUDGET = 1_000;
/** Stop starting new chunks after this long, whatever is left of the budget. */
const PRUNE_TIME_MS = 15_000;

export interface PruneResult {
  runs: number;
  tenants: number;
  /** True when some tenant still had expired runs when the budget or time ran out. */
  more: boolean;
}

/**
 * One cron tick of retention. Tenants take turns (the starting tenant rotates with the
 * minute), so one tenant's backlog cannot starve the others.
 */
export async function pruneExpiredRuns(
  db: Db,
  now: number,
  { budget = PRUNE_BUDGET, chunk = PRUNE_CHUNK, timeMs = PRUNE_TIME_MS } = {},
): Promise<PruneResult> {
  const all = await db
    .select({ id: tenants.id, days: tenants.runRetentionDays })
    .from(tenants)
    .orderBy(asc(tenants.id))
    .all();
  if (!all.length) return { runs: 0, tenants: 0, more: false };
  const start = Math.floor(now / 60_000) % all.length;
  const order = [...all.slice(start), ...all.slice(0, start)];
  const deadline = Date.now() + timeMs;
  let left = budget;
  let pruned = 0;
  let touched = 0;
  let more = false;
  for (const t of order) {
    const cutoff = now - (t.days ?? DEFAULT_RUN_RETENTION_DAYS) * DAY_MS;
    let touchedThis = false;
    for (;;) {
      if (left <= 0 || Date.now() > deadline) {
        more = true;
        break;
      }
      const expired = await db
        .select({ id: runs.id, workflowId: runs.workflowId, createdAt: runs.createdAt })
        .from(runs)
        .where(and(eq(runs.tenantId, t.id), lt(runs.createdAt, cutoff), inArray(runs.status, ['succeeded', 'failed'])))
        .orderBy(asc(runs.createdAt))
        .limit(Math.min(chunk, left))
        .all();
      if (!expired.length) break;
      await deleteLegacyRuns(db, t.id, expired);
      pruned += expired.length;
      left -= expired.length;
      touchedThis = true;
      if (expired.length < Math.min(chunk, left + expired.length)) break;
    }
    if (touchedThis) touched++;
    if (more) break;
  }
  return { runs: pruned, tenants: touched, more };
}
