/**
 * The governance view: every stored secret, plus every env key the tenant's workflows
 * refer to, each with its version, dates and the workflows that use it. No values:
 * `value` is always the mask.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { envSecretUsage } from '../db/schema';
import type { Env } from '../env';
import { describeTenant } from '../tenants/accounts';
import { envGrantProblem, isEnvKeySet, parseEnvGrants, type EnvGrants } from './env-backend';
import { MASK } from './redactor';
import { listSecretUsage, type Backend } from './references';
import { SecretError } from './secret-error';
import { listStoredSecrets } from './secret-store';

export interface SecretSummary {
  key: string;
  backend: Backend;
  value: typeof MASK;
  /** Stored: bumped by every new value. Env: null (the variable has no history here). */
  version: number | null;
  createdAt: number | null;
  rotatedAt: number | null;
  lastUsedAt: number | null;
  /** Stored: until when the value replaced by the last rotation still verifies webhook signatures. Env: null. */
  previousValidUntil: number | null;
  /** Env only: whether the operator granted this key to the tenant. */
  granted?: boolean;
  /** Env only, when granted: whether the Worker variable is set. */
  set?: boolean;
  usedBy: { workflow: string; version: number | 'draft'; step: string | null; field: string }[];
}

function grantsOrNone(env: Env): EnvGrants {
  try {
    return parseEnvGrants(env.AUTOMATE_ENV_GRANTS);
  } catch (e) {
    // A malformed setting grants nothing; resolving says why.
    if (e instanceof SecretError) return new Map();
    throw e;
  }
}

export async function listSecrets(env: Env, db: Db, tenantId: string): Promise<SecretSummary[]> {
  const [stored, usage, envUsage, tenant] = await Promise.all([
    listStoredSecrets(db, tenantId),
    listSecretUsage(db, tenantId),
    db
      .select({ key: envSecretUsage.key, lastUsedAt: envSecretUsage.lastUsedAt })
      .from(envSecretUsage)
      .where(eq(envSecretUsage.tenantId, tenantId)),
    describeTenant(db, tenantId),
  ]);
  const usedBy = (key: string, backend: Backend) =>
    usage
      .filter((u) => u.key === key && u.backend === backend)
      .map(({ workflow, version, step, field }) => ({ workflow, version, step, field }));

  const out: SecretSummary[] = stored.map((s) => ({
    key: s.key,
    backend: 'stored',
    value: MASK,
    version: s.version,
    createdAt: s.createdAt,
    rotatedAt: s.rotatedAt,
    lastUsedAt: s.lastUsedAt,
    previousValidUntil: s.previousValidUntil,
    usedBy: usedBy(s.key, 'stored'),
  }));

  const grants = grantsOrNone(env);
  const envLastUsed = new Map(envUsage.map((u) => [u.key, u.lastUsedAt]));
  const envKeys = new Set([...usage.filter((u) => u.backend === 'env').map((u) => u.key), ...envLastUsed.keys()]);
  for (const key of envKeys) {
    const granted = !!tenant && envGrantProblem(grants, tenant.slug, key) === null;
    out.push({
      key,
      backend: 'env',
      value: MASK,
      version: null,
      createdAt: null,
      rotatedAt: null,
      lastUsedAt: envLastUsed.get(key) ?? null,
      previousValidUntil: null,
      granted,
      // Whether a variable exists is only the tenant's business for keys it was granted.
      ...(granted ? { set: isEnvKeySet(env, key) } : {}),
      usedBy: usedBy(key, 'env'),
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key) || a.backend.localeCompare(b.backend));
}
