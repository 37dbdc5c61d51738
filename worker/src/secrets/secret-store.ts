/**
 * Stored secrets in D1: create, replace, rotate, delete, and the decrypting read the
 * resolver uses. Plaintext only ever passes through `seal`/`open`; it is never bound
 * to a query, so not even a failed-query message can carry it.
 */
import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { secrets, tenants } from '../db/schema';
import { AppError } from '../errors';
import { ssoUsesStoredSecret } from '../sso/sso-config';
import { auditInsert } from '../audit/audit-log';
import type { RequestMeta } from '../workflows/workflow-service';
import { open, seal } from './cipher';
import type { Keyring } from './keyring';
import { listSecretUsage, type SecretUsage } from './references';
import { SecretError } from './secret-error';

/**
 * After a rotation the previous value still verifies webhook signatures this long (and
 * nothing else), so a sender that has not switched yet is not refused: Stripe and
 * Standard Webhooks (Svix) keep an old signing secret valid for 24 hours by default too.
 */
export const PREVIOUS_SIGNING_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Largest value accepted: certificates and service-account JSON fit, data dumps do not. */
export const MAX_SECRET_BYTES = 16 * 1024;
/** Write last-used time at most this often per secret: a D1 write per step is not worth it. */
const LAST_USED_GRANULARITY_MS = 60_000;
const WRITE_ATTEMPTS = 3;

/**
 * Goes in the same batch as every change to a tenant's stored secret values: isolates
 * caching decrypted signing secrets (signing-cache.ts) see the new revision on the next
 * webhook's lookup and read the secret again.
 */
export function bumpSecretsRevision(db: Db, tenantId: string) {
  return db
    .update(tenants)
    .set({ secretsRevision: sql`${tenants.secretsRevision} + 1` })
    .where(eq(tenants.id, tenantId));
}

const metaColumns = {
  key: secrets.key,
  version: secrets.version,
  keyId: secrets.keyId,
  createdAt: secrets.createdAt,
  rotatedAt: secrets.rotatedAt,
  lastUsedAt: secrets.lastUsedAt,
};

export type StoredSecretMeta = {
  key: string;
  version: number;
  keyId: string;
  createdAt: number;
  rotatedAt: number | null;
  lastUsedAt: number | null;
};

export type StoredSecretSummary = StoredSecretMeta & {
  /** Until when the value before the last rotation still verifies webhook signatures; null if it no longer does. */
  previousValidUntil: number | null;
};

/** Until when a superseded version still verifies signatures, given the current version's row. */
function previousValidUntil(current: { rotatedAt: number | null }, hasPrevious: boolean, now: number) {
  if (!hasPrevious || current.rotatedAt === null) return null;
  const until = current.rotatedAt + PREVIOUS_SIGNING_WINDOW_MS;
  return until > now ? until : null;
}

/** The current version of each stored secret (a rotated one may still hold its previous version too). */
export async function listStoredSecrets(db: Db, tenantId: string, now = Date.now()): Promise<StoredSecretSummary[]> {
  const rows = await db
    .select(metaColumns)
    .from(secrets)
    .where(eq(secrets.tenantId, tenantId))
    .orderBy(asc(secrets.key), sql`${secrets.version} DESC`);
  const out: StoredSecretSummary[] = [];
  for (const [i, r] of rows.entries()) {
    if (i > 0 && rows[i - 1].key === r.key) continue;
    out.push({ ...r, previousValidUntil: previousValidUntil(r, rows[i + 1]?.key === r.key, now) });
  }
  return out;
}

async function currentRow(db: Db, tenantId: string, key: string) {
  return db
    .select(metaColumns)
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), eq(secrets.key, key)))
    .orderBy(sql`${secrets.version} DESC`)
    .limit(1)
    .get();
}

function isUniqueViolation(e: unknown): boolean {
  const texts = [String(e), String((e as { cause?: unknown })?.cause ?? '')];
  return texts.some((t) => t.includes('UNIQUE'));
}

export type WriteMode = 'put' | 'rotate';

export interface WriteOptions {
  /**
   * `rotate` only: keep the value being replaced valid for webhook signature checks for
   * PREVIOUS_SIGNING_WINDOW_MS (default true). False ends it at once, as `put` always does:
   * what to do when the old value leaked.
   */
  keepPrevious?: boolean;
}

export interface WriteResult {
  key: string;
  version: number;
  created: boolean;
  createdAt: number;
  rotatedAt: number | null;
  previousValidUntil: number | null;
}

/**
 * Creates the secret or replaces its value (`put`), or replaces an existing one's value
 * (`rotate`; `secret_not_found` otherwise). Every new value is a new version, encrypted under the
 * current master key; the next step that resolves the key gets it, runs in flight included.
 * A rotation keeps the version it replaces (and only that one) for signature checks
 * during the window; every older version is deleted in the same batch.
 */
export async function writeSecret(
  db: Db,
  ring: Keyring,
  tenantId: string,
  key: string,
  value: string,
  mode: WriteMode,
  meta: RequestMeta,
  opts: WriteOptions = {},
): Promise<WriteResult> {
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const current = await currentRow(db, tenantId, key);
    if (!current && mode === 'rotate') throw new AppError('secret_not_found', `Secret "${key}" not found`);
    const version = (current?.version ?? 0) + 1;
    const sealed = await seal(ring, { tenantId, key, version }, value);
    const now = Date.now();
    const row = {
      tenantId,
      key,
      version,
      ...sealed,
      createdAt: current?.createdAt ?? now,
      rotatedAt: current ? now : null,
      lastUsedAt: current?.lastUsedAt ?? null,
    };
    const action = !current ? 'secret.create' : mode === 'rotate' ? 'secret.rotate' : 'secret.update';
    const keepPrevious = !!current && mode === 'rotate' && opts.keepPrevious !== false;
    const validUntil = keepPrevious ? now + PREVIOUS_SIGNING_WINDOW_MS : null;
    try {
      // The new version is an insert: a racing writer that also computed `version`
      // hits the unique index and its whole batch, audit entry included, rolls back.
      await db.batch([
        db.insert(secrets).values(row),
        bumpSecretsRevision(db, tenantId),
        db
          .delete(secrets)
          .where(
            and(
              eq(secrets.tenantId, tenantId),
              eq(secrets.key, key),
              lt(secrets.version, keepPrevious ? current.version : version),
            ),
          ),
        auditInsert(db, {
          tenantId,
          actor: meta.actor,
          action,
          targetType: 'secret',
          targetId: key,
          context: {
            backend: 'stored',
            version,
            ...(current ? { previousVersion: current.version } : {}),
            ...(validUntil ? { previousValidForSignaturesUntil: validUntil } : {}),
            masterKeyId: sealed.keyId,
          },
          ip: meta.ip,
          requestId: meta.requestId,
        }),
      ]);
      return {
        key,
        version,
        created: !current,
        createdAt: row.createdAt,
        rotatedAt: row.rotatedAt,
        previousValidUntil: validUntil,
      };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
  throw new AppError('concurrent_modification', `Secret "${key}" is being changed by someone else right now; retry`);
}

/** Active workflow versions that use this stored secret. */
export async function activeUsersOf(db: Db, tenantId: string, key: string): Promise<SecretUsage[]> {
  return (await listSecretUsage(db, tenantId)).filter(
    (u) => u.key === key && u.backend === 'stored' && u.version !== 'draft',
  );
}

/** Deletes the secret unless an active workflow version uses it (`secret_in_use` naming each). */
export async function deleteSecret(db: Db, tenantId: string, key: string, meta: RequestMeta) {
  const current = await currentRow(db, tenantId, key);
  if (!current) throw new AppError('secret_not_found', `Secret "${key}" not found`);
  if (await ssoUsesStoredSecret(db, tenantId, key))
    throw new AppError(
      'secret_in_use',
      `Secret "${key}" is the single sign-on client secret; change or remove SSO first`,
      {
        details: [{ path: 'sso.clientSecret', message: "the team's single sign-on configuration uses this secret" }],
      },
    );
  const users = await activeUsersOf(db, tenantId, key);
  if (users.length) {
    const names = [...new Set(users.map((u) => `${u.workflow} (v${u.version})`))];
    throw new AppError(
      'secret_in_use',
      `Secret "${key}" is used by active workflows: ${names.join(', ')}. Publish versions that no longer use it first.`,
      {
        details: users.map((u) => ({
          path: `workflows.${u.workflow}.${u.field}`,
          message: `active version ${u.version} of "${u.workflow}"${u.step ? `, step "${u.step}"` : ''} uses this secret`,
        })),
      },
    );
  }
  await db.batch([
    db.delete(secrets).where(and(eq(secrets.tenantId, tenantId), eq(secrets.key, key))),
    bumpSecretsRevision(db, tenantId),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'secret.delete',
      targetType: 'secret',
      targetId: key,
      context: { backend: 'stored', version: current.version },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { key, version: current.version };
}

/** Which of these keys exist for the tenant (publish checks). */
export async function existingKeys(db: Db, tenantId: string, keys: string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const rows = await db
    .selectDistinct({ key: secrets.key })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), inArray(secrets.key, keys)));
  return new Set(rows.map((r) => r.key));
}

type SealedRow = { key: string; version: number; keyId: string; iv: string; ciphertext: string };

/** Re-encrypts one row under the current master key if nothing changed it meanwhile. */
async function reencryptRow(
  db: Db,
  ring: Keyring,
  tenantId: string,
  row: SealedRow,
  plaintext: string,
): Promise<boolean> {
  const sealed = await seal(ring, { tenantId, key: row.key, version: row.version }, plaintext);
  const res = await db
    .update(secrets)
    .set(sealed)
    .where(
      and(
        eq(secrets.tenantId, tenantId),
        eq(secrets.key, row.key),
        eq(secrets.version, row.version),
        eq(secrets.keyId, row.keyId),
      ),
    );
  return (res.meta?.changes ?? 0) > 0;
}

/**
 * Decrypts the current value of each key. Rows still under an older master key are
 * re-encrypted on the way (lazy half of master-key rotation).
 * @throws SecretError NOT_FOUND / UNDECRYPTABLE naming the key.
 */
export async function readStoredValues(
  db: Db,
  ring: Keyring,
  tenantId: string,
  keys: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!keys.length) return out;
  const rows = await db
    .select({
      key: secrets.key,
      version: secrets.version,
      keyId: secrets.keyId,
      iv: secrets.iv,
      ciphertext: secrets.ciphertext,
    })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), inArray(secrets.key, keys)));
  const latest = new Map<string, SealedRow>();
  for (const r of rows) if ((latest.get(r.key)?.version ?? 0) < r.version) latest.set(r.key, r);
  for (const key of keys) {
    const row = latest.get(key);
    if (!row)
      throw new SecretError(
        'NOT_FOUND',
        `stored secret "${key}" does not exist in this tenant; create it (PUT /api/secrets/${key})`,
        { key },
      );
    const plaintext = await open(ring, { tenantId, key, version: row.version }, row);
    if (row.keyId !== ring.currentId) await reencryptRow(db, ring, tenantId, row, plaintext);
    out.set(key, plaintext);
  }
  return out;
}

export interface SigningValues {
  /** The current value first, then the previous one while its window lasts. */
  values: string[];
  /** Deletes a previous version whose window has passed, if there is one. */
  prune?: () => Promise<unknown>;
  /** When the previous value stops verifying, so `values` changes without any write. */
  changesAt?: number;
}

/**
 * A webhook signing secret's values: the current one, plus, within
 * PREVIOUS_SIGNING_WINDOW_MS of a rotation that kept it, the one it replaced. Only the
 * webhook route may use the second: steps always get the current value.
 * @throws SecretError NOT_FOUND / UNDECRYPTABLE naming the key.
 */
export async function readSigningValues(
  db: Db,
  ring: Keyring,
  tenantId: string,
  key: string,
  now = Date.now(),
): Promise<SigningValues> {
  const rows = await db
    .select({
      version: secrets.version,
      keyId: secrets.keyId,
      iv: secrets.iv,
      ciphertext: secrets.ciphertext,
      rotatedAt: secrets.rotatedAt,
    })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), eq(secrets.key, key)))
    .orderBy(sql`${secrets.version} DESC`)
    .limit(2);
  const [current, previous] = rows;
  if (!current)
    throw new SecretError(
      'NOT_FOUND',
      `stored secret "${key}" does not exist in this tenant; create it (PUT /api/secrets/${key})`,
      { key },
    );
  const values = [await open(ring, { tenantId, key, version: current.version }, current)];
  if (!previous) return { values };
  if (previousValidUntil(current, true, now) === null) {
    // Ciphertext of a value nothing accepts any more is not kept.
    const prune = async () =>
      db
        .delete(secrets)
        .where(and(eq(secrets.tenantId, tenantId), eq(secrets.key, key), lt(secrets.version, current.version)));
    return { values, prune };
  }
  const changesAt = previousValidUntil(current, true, now) ?? undefined;
  try {
    values.push(await open(ring, { tenantId, key, version: previous.version }, previous));
  } catch (e) {
    // An unreadable previous value must not stop the current one from verifying.
    if (!(e instanceof SecretError)) throw e;
  }
  return { values, changesAt };
}

/** Marks stored secrets used now, at most once a minute each. */
export function touchStoredSecrets(db: Db, tenantId: string, keys: string[]) {
  const now = Date.now();
  return db
    .update(secrets)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(secrets.tenantId, tenantId),
        inArray(secrets.key, keys),
        or(isNull(secrets.lastUsedAt), lt(secrets.lastUsedAt, now - LAST_USED_GRANULARITY_MS)),
      ),
    );
}

/**
 * Operator maintenance across all tenants (so no tenant filter): how many stored secrets
 * each master key id still encrypts. A key id may leave AUTOMATE_MASTER_KEY once its
 * count is 0. Same as `SELECT key_id, count(*) FROM secrets GROUP BY key_id`.
 */
export async function countByKeyId(db: Db): Promise<Record<string, number>> {
  const rows = await db.select({ keyId: secrets.keyId, n: sql<number>`count(*)` }).from(secrets).groupBy(secrets.keyId);
  return Object.fromEntries(rows.map((r) => [r.keyId, r.n]));
}

export interface ReencryptReport {
  /** Rows moved to the current master key. */
  reencrypted: number;
  /**
   * Rows under a known older key that did not decrypt (tampered); left as they are and
   * selected again next time, so set or delete those secrets (their workflows fail too).
   */
  failed: number;
  /** Rows still under an older known key after this batch. */
  remaining: number;
  /** Rows under key ids no longer in AUTOMATE_MASTER_KEY: unreadable until the entry is restored. */
  orphaned: number;
}

/**
 * Background half of master-key rotation, for the Worker's scheduled handler: moves up to
 * `limit` rows from older master keys to the current one. Call it until `remaining` is 0.
 * Operator maintenance across all tenants, like countByKeyId.
 *
 * @example
 * const ring = await keyringFromEnv(env);
 * if (ring.ids.length > 1) ctx.waitUntil(reencryptBatch(createDb(env.DB), ring, 100));
 */
export async function reencryptBatch(db: Db, ring: Keyring, limit = 100): Promise<ReencryptReport> {
  const older = ring.ids.filter((id) => id !== ring.currentId);
  let reencrypted = 0;
  let failed = 0;
  if (older.length) {
    const rows = await db
      .select({
        tenantId: secrets.tenantId,
        key: secrets.key,
        version: secrets.version,
        keyId: secrets.keyId,
        iv: secrets.iv,
        ciphertext: secrets.ciphertext,
      })
      .from(secrets)
      .where(inArray(secrets.keyId, older))
      .orderBy(asc(secrets.tenantId), asc(secrets.key))
      .limit(limit);
    for (const row of rows) {
      try {
        const plaintext = await open(ring, { tenantId: row.tenantId, key: row.key, version: row.version }, row);
        if (await reencryptRow(db, ring, row.tenantId, row, plaintext)) reencrypted++;
      } catch (e) {
        if (!(e instanceof SecretError)) throw e;
        failed++;
      }
    }
  }
  const counts = await countByKeyId(db);
  let remaining = 0;
  let orphaned = 0;
  for (const [id, n] of Object.entries(counts)) {
    if (older.includes(id)) remaining += n;
    else if (!ring.has(id)) orphaned += n;
  }
  return { reencrypted, failed, remaining, orphaned };
}
