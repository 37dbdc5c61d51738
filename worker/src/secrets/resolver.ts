/**
 * The one place plaintext secrets come from. The engine hands it a step's declared
 * references and gets back the values (for that step's templates only) and a Redactor
 * to pass everything the step produced through before it is kept or shown.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { envSecretUsage } from '../db/schema';
import type { Env } from '../env';
import type { SecretRef } from '../workflows/workflow-file';
import { readEnvSecret } from './env-backend';
import { keyringFromEnv } from './keyring';
import { createRedactor, type Redactor } from './redactor';
import { SecretError } from './secret-error';
import { readSigningValues, readStoredValues, type SigningValues, touchStoredSecrets } from './secret-store';
import { cachedSigningValues, rememberSigningValues, touchDue } from './signing-cache';

export interface TenantRef {
  id: string;
  slug: string;
  /**
   * The tenant's `secrets_revision` as just read from D1. Given, a stored signing secret
   * may come from this isolate's cache (signing-cache.ts) when read under the same revision.
   */
  secretsRevision?: number;
}

export interface ResolvedSecrets {
  /** Plaintext by the step's own name for each reference (`secrets.<NAME>` in templates). */
  values: Record<string, string>;
  /** Scrubs these values, in every common encoding, from outputs, errors and logs. */
  redactor: Redactor;
}

export interface ResolveOptions {
  /** Named in errors so the Explorer says which step to fix; `trigger` for a webhook's verify secret. */
  stepId?: string;
  /** Defers the last-used bookkeeping past the response (a webhook's ack need not wait for it). */
  waitUntil?: (p: Promise<unknown>) => void;
}

export interface SecretResolver {
  /**
   * Reads each reference's current value: a rotation takes effect for the next call,
   * runs in flight included. Marks the secrets used (at most once a minute each).
   * @throws SecretError (not retryable) naming the step and key, never a value.
   */
  resolveForStep(tenant: TenantRef, refs: Record<string, SecretRef>, opts?: ResolveOptions): Promise<ResolvedSecrets>;
  /**
   * A webhook trigger's signing secret: every value a signature may be made with. That is
   * the current value, plus the previous one for 24 hours after a stored secret's rotation
   * (docs/webhooks.md); an env secret has only its current value. Read afresh unless
   * `tenant.secretsRevision` matches a cached read, so the very next webhook after a
   * rotation (which bumps the revision) sees it.
   * @throws SecretError naming the key, never a value.
   */
  resolveSigningSecrets(tenant: TenantRef, ref: SecretRef, opts?: ResolveOptions): Promise<string[]>;
}

const ENV_USAGE_GRANULARITY_MS = 60_000;

function withStep(e: unknown, stepId: string | undefined): never {
  if (e instanceof SecretError) {
    throw new SecretError(e.code, stepId ? `Step "${stepId}": ${e.message}` : e.message, { key: e.key, stepId });
  }
  throw e;
}

/** Bookkeeping (last-used times, pruning) runs after the answer when the caller allows it, else before returning. */
async function afterUse(work: Promise<unknown>, opts: ResolveOptions) {
  if (!opts.waitUntil) return work;
  opts.waitUntil(
    work.catch((e) =>
      console.error(JSON.stringify({ level: 'warn', message: 'secret bookkeeping failed', error: String(e) })),
    ),
  );
}

export function createSecretResolver(env: Env, db: Db): SecretResolver {
  return {
    async resolveSigningSecrets(tenant, ref, opts = {}) {
      const stored = (ref.backend ?? 'stored') === 'stored';
      const now = Date.now();
      const revision = tenant.secretsRevision;
      const cached =
        stored && revision !== undefined
          ? cachedSigningValues(tenant.id, ref.$secret, revision, env.AUTOMATE_MASTER_KEY, now)
          : null;
      let read: SigningValues = { values: [] };
      if (cached) read = { values: cached };
      else {
        try {
          read = stored
            ? await readSigningValues(db, await keyringFromEnv(env), tenant.id, ref.$secret, now)
            : { values: [readEnvSecret(env, tenant.slug, ref.$secret)] };
        } catch (e) {
          withStep(e, opts.stepId);
        }
        if (stored && revision !== undefined)
          rememberSigningValues(tenant.id, ref.$secret, revision, env.AUTOMATE_MASTER_KEY, read.values, read.changesAt);
      }
      // Last-used times are minute-grained: this isolate writes one at most once a minute per secret.
      const touched = touchDue(tenant.id, `${ref.backend ?? 'stored'}:${ref.$secret}`, now)
        ? touch(db, tenant.id, stored ? [ref.$secret] : [], stored ? [] : [ref.$secret])
        : Promise.resolve();
      await afterUse(read.prune ? Promise.all([touched, read.prune()]) : touched, opts);
      return read.values;
    },
    async resolveForStep(tenant, refs, opts = {}) {
      const entries = Object.entries(refs);
      const storedKeys = [
        ...new Set(entries.filter(([, r]) => (r.backend ?? 'stored') === 'stored').map(([, r]) => r.$secret)),
      ];
      const envKeys = [...new Set(entries.filter(([, r]) => r.backend === 'env').map(([, r]) => r.$secret))];
      const values: Record<string, string> = {};
      try {
        const envValues = new Map(envKeys.map((k) => [k, readEnvSecret(env, tenant.slug, k)]));
        // Only touch the keyring when the step uses stored secrets: env-only deployments need no master key.
        const stored = storedKeys.length
          ? await readStoredValues(db, await keyringFromEnv(env), tenant.id, storedKeys)
          : new Map<string, string>();
        for (const [name, ref] of entries)
          values[name] = (ref.backend === 'env' ? envValues : stored).get(ref.$secret)!;
      } catch (e) {
        withStep(e, opts.stepId);
      }
      await afterUse(touch(db, tenant.id, storedKeys, envKeys), opts);
      return { values, redactor: createRedactor(Object.values(values)) };
    },
  };
}

async function touch(db: Db, tenantId: string, storedKeys: string[], envKeys: string[]) {
  const now = Date.now();
  const statements = [
    ...(storedKeys.length ? [touchStoredSecrets(db, tenantId, storedKeys)] : []),
    ...envKeys.map((key) =>
      db
        .insert(envSecretUsage)
        .values({ tenantId, key, lastUsedAt: now })
        .onConflictDoUpdate({
          target: [envSecretUsage.tenantId, envSecretUsage.key],
          set: { lastUsedAt: now },
          setWhere: sql`${envSecretUsage.lastUsedAt} < ${now - ENV_USAGE_GRANULARITY_MS}`,
        }),
    ),
  ];
  if (statements.length) await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}
