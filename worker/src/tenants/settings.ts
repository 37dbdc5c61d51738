/**
 * A tenant's own settings, kept on its `tenants` row: how long the Explorer keeps finished
 * runs (docs/retention.md) and whether every member must use two-factor authentication
 * (docs/accounts.md).
 */
import { eq } from 'drizzle-orm';
import type { Actor, Role } from '../auth/principal';
import { auditInsert } from '../audit/audit-log';
import type { Db } from '../db/client';
import { tenants } from '../db/schema';
import { AppError } from '../errors';

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
  /** Every member must use two-factor authentication (password sign-ins; API tokens and SSO are not affected). */
  mfaRequired: boolean;
}

const view = (days: number | null, mfaRequired: boolean): TenantSettings => ({
  runRetentionDays: days,
  effectiveRunRetentionDays: days ?? DEFAULT_RUN_RETENTION_DAYS,
  mfaRequired,
});

export async function getSettings(db: Db, tenantId: string): Promise<TenantSettings> {
  const row = await db
    .select({ days: tenants.runRetentionDays, mfaRequired: tenants.mfaRequired })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  // Callers are signed in to this tenant, so a missing row is a bug, not a client error.
  if (!row) throw new Error(`tenant ${tenantId} has no row`);
  return view(row.days, row.mfaRequired);
}

export async function mfaRequiredFor(db: Db, tenantId: string): Promise<boolean> {
  const row = await db.select({ mfaRequired: tenants.mfaRequired }).from(tenants).where(eq(tenants.id, tenantId)).get();
  return row?.mfaRequired ?? false;
}

export interface SettingsChange {
  runRetentionDays?: number | null;
  mfaRequired?: boolean;
}

/** Changes the settings and records who changed what in the audit log, in one batch. */
export async function updateSettings(
  db: Db,
  tenantId: string,
  change: SettingsChange,
  meta: {
    actor: Actor;
    actorRole: Role;
    /** The actor has two-factor on (or signed in with SSO): required before requiring it of everyone. */
    actorHasMfa: boolean;
    ip: string | null;
    requestId: string;
  },
): Promise<TenantSettings> {
  const before = await getSettings(db, tenantId);
  const days = change.runRetentionDays === undefined ? before.runRetentionDays : change.runRetentionDays;
  const mfaRequired = change.mfaRequired ?? before.mfaRequired;
  const mfaChanged = mfaRequired !== before.mfaRequired;
  if (change.mfaRequired !== undefined && meta.actorRole !== 'owner')
    throw new AppError('forbidden', 'Only an owner can change whether the team requires two-factor authentication');
  // Requiring it without having it would restrict the owner's own session at once.
  if (mfaChanged && mfaRequired && !meta.actorHasMfa)
    throw new AppError('mfa_not_enabled', 'Turn on two-factor authentication for your own account first');
  const audit = (action: string, context: Record<string, unknown>) =>
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action,
      targetType: 'tenant',
      targetId: tenantId,
      context,
      ip: meta.ip,
      requestId: meta.requestId,
    });
  const statements = [
    ...(change.runRetentionDays !== undefined
      ? [audit('tenant.settings.update', { runRetentionDays: { from: before.runRetentionDays, to: days } })]
      : []),
    ...(mfaChanged
      ? [audit('mfa.requirement_change', { mfaRequired: { from: before.mfaRequired, to: mfaRequired } })]
      : []),
  ];
  if (!statements.length) return before;
  await db.batch([
    db.update(tenants).set({ runRetentionDays: days, mfaRequired }).where(eq(tenants.id, tenantId)),
    ...statements,
  ]);
  return view(days, mfaRequired);
}
