/**
 * Drafts per tenant in fixed one-minute windows, counted in D1 (lib/rate-windows.ts), so
 * the limit holds across isolates. Counted before drafting: a model call costs whether or
 * not it succeeds.
 */
import type { Db } from '../db/client';
import { hit } from '../lib/rate-windows';

export const WINDOW_MS = 60_000;
export const DEFAULT_DRAFTS_PER_MINUTE = 20;

export function draftsPerMinute(setting: string | undefined): number {
  const n = Number(setting);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_DRAFTS_PER_MINUTE;
}

/** Counts one draft; returns the seconds to wait when the tenant is over its limit, else 0. */
export function takeDraft(db: Db, tenantId: string, limit: number, now = Date.now()): Promise<number> {
  return hit(db, [{ key: `copilot:tenant:${tenantId}`, limit, windowMs: WINDOW_MS }], now);
}
