/**
 * A tenant's own settings, kept on its `tenants` row. Today: how long the Explorer keeps
 * finished runs (docs/retention.md).
 */
import { eq } from 'drizzle-orm';
import type { Actor } from '../auth/principal';
import { auditInsert } from '../audit/audit-log';
import type { Db } from '../db/client';
import { tenants } from '../db/schema';

/**
 * Days a finished run stays in the Explorer when the tenant has not chosen. n8n's default
 * (14 days): what people moving from it expect, long enough to debug last week's failures,
 * and short enough that one busy tenant cannot fill the shared database (docs/retention.md).
 */
export const DEFAULT_RUN_RETENTION_DAYS = 14;
/** The longest a tenant may keep runs: every run's record lives in the one D1 database. */
export const MAX_RUN_RETENTION_DAYS = 90;
export const DAY_MS = 86_400_000;

export interface TenantSettings {
  /** What the tenant chose; null means the default. */
  runRetentionDays: number | null;
  /** What applies: the choice or the default. */
  effectiveRunRetentionDays: number;
}

const view = (days: number | null): TenantSettings => ({
  runRetentionDays: days,
  effectiveRunRetentionDays: days ?? DEFAULT_RUN_RETENTION_DAYS,
});

export async function getSettings(db: Db, tenantId: string): Promise<TenantSettings> {
  const row = await db.select({ days: tenants.runRetentionDays }).from(tenants).where(eq(tenants.id, tenantId)).get();
  // Callers are signed in to this tenant, so a missing row is a bug, not a client error.
  if (!row) throw new Error(`tenant ${tenantId} has no row`);
  return view(row.days);
}

/** Changes the settings and records who changed what in the audit log, in one batch. */
export async function updateSettings(
  db: Db,
  tenantId: string,
  change: { runRetentionDays?: number | null },
  meta: { actor: Actor; ip: string | null; requestId: string },
): Promise<TenantSettings> {
  const before = await getSettings(db, tenantId);
  if (change.runRetentionDays === undefined) return before;
  const days = change.runRetentionDays;
  await db.batch([
    db.update(tenants).set({ runRetentionDays: days }).where(eq(tenants.id, tenantId)),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'tenant.settings.update',
      targetType: 'tenant',
      targetId: tenantId,
      context: { runRetentionDays: { from: before.runRetentionDays, to: days } },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return view(days);
}
