/**
 * A user's TOTP authenticator and recovery codes in D1. The TOTP secret is sealed with the
 * stored-secrets cipher (secrets/cipher.ts) under the tenant's key from AUTOMATE_MASTER_KEY,
 * so it rotates with the master key like every stored secret: lazily when read, and in
 * batches by the minute cron (reencryptMfaBatch). The plaintext secret leaves this module
 * only once, in the enrolment answer; codes and recovery codes are never kept or logged.
 */
import { and, eq, inArray, isNull, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { mfaChallenges, mfaRecoveryCodes, tenants, userMfa, users } from '../../db/schema';
import { AppError } from '../../errors';
import { auditInsert } from '../../audit/audit-log';
import { randomBytes } from '../../lib/crypto';
import { open, type SecretAddress, seal } from '../../secrets/cipher';
import type { Keyring } from '../../secrets/keyring';
import { SecretError } from '../../secrets/secret-error';
import { mfaRetryAfterSeconds, recordMfaFailure, clearMfaFailures } from '../login-throttle';
import type { Actor } from '../principal';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from './recovery-codes';
import { base32Decode, base32Encode, matchingStep, otpauthUri } from './totp';

export const TOTP_ISSUER = 'Automate';

export interface MfaUser {
  tenantId: string;
  userId: string;
  email: string;
}

export interface MfaMeta {
  actor: Actor;
  ip: string | null;
  requestId: string;
}

/** What proves the second factor: a current authenticator code or an unused recovery code. */
export type Proof = { code: string; recoveryCode?: undefined } | { recoveryCode: string; code?: undefined };
export type ProofMethod = 'totp' | 'recovery_code';

/** The cipher's address for a user's TOTP secret: bound to tenant and user, never a stored secret's key. */
const address = (tenantId: string, userId: string): SecretAddress => ({
  tenantId,
  key: `mfa-totp/${userId}`,
  version: 1,
});

const row = (db: Db, tenantId: string, userId: string) =>
  db
    .select()
    .from(userMfa)
    .where(and(eq(userMfa.tenantId, tenantId), eq(userMfa.userId, userId)))
    .get();

type MfaRow = NonNullable<Awaited<ReturnType<typeof row>>>;

export async function mfaStatus(db: Db, tenantId: string, userId: string) {
  const [r, left, tenant] = await Promise.all([
    row(db, tenantId, userId),
    recoveryCodesLeft(db, tenantId, userId),
    db.select({ mfaRequired: tenants.mfaRequired }).from(tenants).where(eq(tenants.id, tenantId)).get(),
  ]);
  const enabled = r?.enabledAt != null;
  return {
    enabled,
    enabledAt: r?.enabledAt ?? null,
    enrollmentPending: !!r && !enabled,
    recoveryCodesLeft: enabled ? left : 0,
    requiredByTenant: tenant?.mfaRequired ?? false,
  };
}

/** Whether the user has a confirmed authenticator (login asks for a code then). */
export async function hasMfa(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const r = await db
    .select({ userId: userMfa.userId })
    .from(userMfa)
    .where(and(eq(userMfa.tenantId, tenantId), eq(userMfa.userId, userId), isNotNull(userMfa.enabledAt)))
    .get();
  return !!r;
}

/** Refuses the attempt while the user (or their address) has had too many wrong codes. */
async function throttle(db: Db, userId: string, ip: string | null) {
  const wait = await mfaRetryAfterSeconds(db, userId, ip);
  if (wait > 0)
    throw new AppError('rate_limited', `Too many wrong codes; try again in ${wait} s`, { retryAfterSeconds: wait });
}

/** The TOTP secret, moving the row to the current master key if an older one sealed it. */
async function secretOf(db: Db, ring: Keyring, r: MfaRow): Promise<Uint8Array> {
  let plaintext: string;
  try {
    plaintext = await open(ring, address(r.tenantId, r.userId), r);
  } catch (e) {
    if (!(e instanceof SecretError)) throw e;
    // The operator removed the master key that sealed it, or the row was altered: an owner can reset it.
    throw new AppError(
      'secrets_not_configured',
      'Your authenticator secret cannot be decrypted on this deployment (master key missing); ask an owner to reset your two-factor authentication',
      { cause: e.message },
    );
  }
  if (r.keyId !== ring.currentId) await reseal(db, ring, r, plaintext);
  return base32Decode(plaintext);
}

async function reseal(db: Db, ring: Keyring, r: MfaRow, plaintext: string): Promise<boolean> {
  const sealed = await seal(ring, address(r.tenantId, r.userId), plaintext);
  const res = await db
    .update(userMfa)
    .set(sealed)
    .where(and(eq(userMfa.tenantId, r.tenantId), eq(userMfa.userId, r.userId), eq(userMfa.keyId, r.keyId)));
  return (res.meta?.changes ?? 0) > 0;
}

/**
 * Accepts `code` if it is current and newer than the last accepted one, claiming its step
 * in the same conditional write: two requests with one code cannot both pass.
 */
async function acceptTotp(db: Db, ring: Keyring, r: MfaRow, code: string, now = Date.now()): Promise<boolean> {
  const step = await matchingStep(await secretOf(db, ring, r), code, now, r.lastUsedStep);
  if (step === null) return false;
  const res = await db
    .update(userMfa)
    .set({ lastUsedStep: step })
    .where(
      and(
        eq(userMfa.tenantId, r.tenantId),
        eq(userMfa.userId, r.userId),
        or(isNull(userMfa.lastUsedStep), lt(userMfa.lastUsedStep, step)),
      ),
    );
  return (res.meta?.changes ?? 0) > 0;
}

/** Marks one unused recovery code used; true if it was one. */
async function acceptRecoveryCode(db: Db, r: MfaRow, code: string): Promise<boolean> {
  if (!/^[a-z2-7]{16}$/.test(normalizeRecoveryCode(code))) return false;
  const res = await db
    .update(mfaRecoveryCodes)
    .set({ usedAt: Date.now() })
    .where(
      and(
        eq(mfaRecoveryCodes.tenantId, r.tenantId),
        eq(mfaRecoveryCodes.userId, r.userId),
        eq(mfaRecoveryCodes.codeHash, await hashRecoveryCode(r.userId, code)),
        isNull(mfaRecoveryCodes.usedAt),
      ),
    );
  return (res.meta?.changes ?? 0) > 0;
}

/**
 * Checks the proof for a user whose MFA is on: rate limited per user and address, a wrong one
 * counted. Returns how it was proven, or null when wrong (the caller says so and audits).
 */
export async function checkProof(
  db: Db,
  ring: Keyring,
  user: { tenantId: string; userId: string },
  proof: Proof,
  ip: string | null,
): Promise<ProofMethod | null> {
  await throttle(db, user.userId, ip);
  const r = await row(db, user.tenantId, user.userId);
  if (!r?.enabledAt) throw new AppError('mfa_not_enabled', 'Two-factor authentication is not on for this account');
  const method: ProofMethod = proof.recoveryCode !== undefined ? 'recovery_code' : 'totp';
  const ok =
    method === 'recovery_code'
      ? await acceptRecoveryCode(db, r, proof.recoveryCode ?? '')
      : await acceptTotp(db, ring, r, proof.code ?? '');
  if (!ok) {
    await recordMfaFailure(db, user.userId, ip);
    return null;
  }
  await clearMfaFailures(db, user.userId);
  return method;
}

export async function recoveryCodesLeft(db: Db, tenantId: string, userId: string): Promise<number> {
  const r = await db
    .select({ n: sql<number>`count(*)` })
    .from(mfaRecoveryCodes)
    .where(
      and(
        eq(mfaRecoveryCodes.tenantId, tenantId),
        eq(mfaRecoveryCodes.userId, userId),
        isNull(mfaRecoveryCodes.usedAt),
      ),
    )
    .get();
  return r?.n ?? 0;
}

const wrongCode = () =>
  new AppError('invalid_mfa_code', 'That code is wrong, already used or expired; enter the current one');

/**
 * Starts (or restarts) enrolment: a new random 160-bit secret (RFC 4226 §4), sealed at
 * rest. The answer is the only time it is shown.
 */
export async function startEnrollment(db: Db, ring: Keyring, user: MfaUser, meta: MfaMeta) {
  const current = await row(db, user.tenantId, user.userId);
  if (current?.enabledAt)
    throw new AppError(
      'mfa_already_enabled',
      'Two-factor authentication is already on; disable it first to change device',
    );
  const secret = base32Encode(randomBytes(20));
  const sealed = await seal(ring, address(user.tenantId, user.userId), secret);
  const now = Date.now();
  const fresh = { ...sealed, createdAt: now, enabledAt: null, lastUsedStep: null };
  await db.batch([
    db
      .insert(userMfa)
      .values({ userId: user.userId, tenantId: user.tenantId, ...fresh })
      .onConflictDoUpdate({
        target: userMfa.userId,
        set: fresh,
        // Never overwrite a confirmed authenticator, even when racing a confirmation.
        setWhere: and(eq(userMfa.tenantId, user.tenantId), isNull(userMfa.enabledAt)),
      }),
    auditInsert(db, {
      tenantId: user.tenantId,
      actor: meta.actor,
      action: 'mfa.enroll_start',
      targetType: 'user',
      targetId: user.userId,
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { secret, otpauthUri: otpauthUri(secret, user.email, TOTP_ISSUER), issuer: TOTP_ISSUER, account: user.email };
}

/** New recovery codes replacing all the user's others, as statements for the caller's batch. */
async function recoveryCodeStatements(db: Db, tenantId: string, userId: string) {
  const codes = newRecoveryCodes();
  const now = Date.now();
  const rows = await Promise.all(
    codes.map(async (code) => ({ tenantId, userId, codeHash: await hashRecoveryCode(userId, code), createdAt: now })),
  );
  const statements = [
    db
      .delete(mfaRecoveryCodes)
      .where(and(eq(mfaRecoveryCodes.tenantId, tenantId), eq(mfaRecoveryCodes.userId, userId))),
    db.insert(mfaRecoveryCodes).values(rows),
  ] as const;
  return { codes, statements };
}

/** Confirms enrolment with a current code: MFA is on, and the ten recovery codes are shown once. */
export async function confirmEnrollment(db: Db, ring: Keyring, user: MfaUser, code: string, meta: MfaMeta) {
  await throttle(db, user.userId, meta.ip);
  const r = await row(db, user.tenantId, user.userId);
  if (r?.enabledAt) throw new AppError('mfa_already_enabled', 'Two-factor authentication is already on');
  if (!r) throw new AppError('mfa_not_enabled', 'Start enrolment first (POST /api/auth/mfa/enroll)');
  if (!(await acceptTotp(db, ring, r, code))) {
    await recordMfaFailure(db, user.userId, meta.ip);
    throw wrongCode();
  }
  const { codes, statements } = await recoveryCodeStatements(db, user.tenantId, user.userId);
  const now = Date.now();
  await db.batch([
    db
      .update(userMfa)
      .set({ enabledAt: now })
      .where(and(eq(userMfa.tenantId, user.tenantId), eq(userMfa.userId, user.userId))),
    ...statements,
    auditInsert(db, {
      tenantId: user.tenantId,
      actor: meta.actor,
      action: 'mfa.enroll',
      targetType: 'user',
      targetId: user.userId,
      context: { method: 'totp', recoveryCodes: codes.length },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  await clearMfaFailures(db, user.userId);
  return { enabledAt: now, recoveryCodes: codes };
}

/** Ten new recovery codes (the old ones stop working); needs a current authenticator code. */
export async function regenerateRecoveryCodes(db: Db, ring: Keyring, user: MfaUser, code: string, meta: MfaMeta) {
  if (!(await checkProof(db, ring, user, { code }, meta.ip))) throw wrongCode();
  const { codes, statements } = await recoveryCodeStatements(db, user.tenantId, user.userId);
  await db.batch([
    ...statements,
    auditInsert(db, {
      tenantId: user.tenantId,
      actor: meta.actor,
      action: 'mfa.recovery_codes_regenerate',
      targetType: 'user',
      targetId: user.userId,
      context: { recoveryCodes: codes.length },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { recoveryCodes: codes };
}

/** Every trace of the user's MFA, as statements: authenticator, recovery codes, open challenges. */
function removalStatements(db: Db, tenantId: string, userId: string) {
  return [
    db.delete(userMfa).where(and(eq(userMfa.tenantId, tenantId), eq(userMfa.userId, userId))),
    db
      .delete(mfaRecoveryCodes)
      .where(and(eq(mfaRecoveryCodes.tenantId, tenantId), eq(mfaRecoveryCodes.userId, userId))),
    db.delete(mfaChallenges).where(and(eq(mfaChallenges.tenantId, tenantId), eq(mfaChallenges.userId, userId))),
  ] as const;
}

/** Turns MFA off with a current code or a recovery code, unless the tenant requires it. */
export async function disableMfa(db: Db, ring: Keyring, user: MfaUser, proof: Proof, meta: MfaMeta) {
  const tenant = await db
    .select({ mfaRequired: tenants.mfaRequired })
    .from(tenants)
    .where(eq(tenants.id, user.tenantId))
    .get();
  if (tenant?.mfaRequired)
    throw new AppError(
      'mfa_required_by_tenant',
      'Your team requires two-factor authentication, so it cannot be turned off; an owner can reset it if you lost your device',
    );
  const method = await checkProof(db, ring, user, proof, meta.ip);
  if (!method) throw wrongCode();
  await db.batch([
    ...removalStatements(db, user.tenantId, user.userId),
    auditInsert(db, {
      tenantId: user.tenantId,
      actor: meta.actor,
      action: 'mfa.disable',
      targetType: 'user',
      targetId: user.userId,
      context: { method },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
}

/** An owner removes a member's MFA (a lost device); the member enrols again after signing in. */
export async function resetMemberMfa(db: Db, tenantId: string, memberId: string, meta: MfaMeta) {
  const member = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, memberId)))
    .get();
  if (!member) throw new AppError('member_not_found', 'Member not found');
  const r = await row(db, tenantId, memberId);
  if (!r) throw new AppError('mfa_not_enabled', `${member.email} has no two-factor authentication to reset`);
  await db.batch([
    ...removalStatements(db, tenantId, memberId),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'mfa.reset',
      targetType: 'user',
      targetId: memberId,
      context: { email: member.email, wasEnabled: r.enabledAt !== null },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { id: memberId, mfaEnabled: false as const };
}

/** Which of these users have MFA on (the members list). */
export async function usersWithMfa(db: Db, tenantId: string, userIds: string[]): Promise<Set<string>> {
  if (!userIds.length) return new Set();
  const rows = await db
    .select({ userId: userMfa.userId })
    .from(userMfa)
    .where(and(eq(userMfa.tenantId, tenantId), inArray(userMfa.userId, userIds), isNotNull(userMfa.enabledAt)));
  return new Set(rows.map((r) => r.userId));
}

/**
 * Operator maintenance across all tenants (no tenant filter), like the stored secrets' own:
 * how many TOTP secrets each master key id still seals.
 */
export async function countMfaByKeyId(db: Db): Promise<Record<string, number>> {
  const rows = await db.select({ keyId: userMfa.keyId, n: sql<number>`count(*)` }).from(userMfa).groupBy(userMfa.keyId);
  return Object.fromEntries(rows.map((r) => [r.keyId, r.n]));
}

/**
 * The minute cron's half of master-key rotation for TOTP secrets: moves up to `limit` rows
 * off older master keys. Rows that do not decrypt are counted and left (an owner resets them).
 */
export async function reencryptMfaBatch(db: Db, ring: Keyring, limit = 100) {
  const older = ring.ids.filter((id) => id !== ring.currentId);
  let reencrypted = 0;
  let failed = 0;
  if (older.length) {
    const rows = await db.select().from(userMfa).where(inArray(userMfa.keyId, older)).limit(limit);
    for (const r of rows) {
      try {
        if (await reseal(db, ring, r, await open(ring, address(r.tenantId, r.userId), r))) reencrypted++;
      } catch (e) {
        if (!(e instanceof SecretError)) throw e;
        failed++;
      }
    }
  }
  const counts = await countMfaByKeyId(db);
  const remaining = older.reduce((n, id) => n + (counts[id] ?? 0), 0);
  return { reencrypted, failed, remaining };
}
