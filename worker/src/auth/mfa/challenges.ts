/**
 * The MFA step of sign-in. A correct password for a user with MFA yields a challenge, not
 * a session: a random token, stored only as its SHA-256, good for 5 minutes, one sign-in
 * and at most 5 wrong codes. The code posted with it (or a recovery code) completes the
 * sign-in; the per-user counter in login-throttle.ts limits guesses across challenges.
 */
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { mfaChallenges, users } from '../../db/schema';
import { AppError } from '../../errors';
import { recordAudit } from '../../audit/audit-log';
import { base64url, randomBytes, sha256Hex } from '../../lib/crypto';
import type { Keyring } from '../../secrets/keyring';
import { checkProof, type Proof, type ProofMethod, recoveryCodesLeft } from './mfa-store';

export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
export const MAX_CHALLENGE_FAILURES = 5;

export async function createChallenge(db: Db, tenantId: string, userId: string) {
  const challenge = base64url(randomBytes(32));
  const now = Date.now();
  const expiresAt = now + CHALLENGE_TTL_MS;
  await db.batch([
    // Expired challenges of this user go when a new one is made: the table holds only live ones.
    db
      .delete(mfaChallenges)
      .where(
        and(eq(mfaChallenges.tenantId, tenantId), eq(mfaChallenges.userId, userId), lt(mfaChallenges.expiresAt, now)),
      ),
    db
      .insert(mfaChallenges)
      .values({ idHash: await sha256Hex(challenge), tenantId, userId, expiresAt, createdAt: now }),
  ]);
  return { challenge, expiresAt };
}

const invalid = () =>
  new AppError(
    'mfa_challenge_invalid',
    'This sign-in has expired or was already used; sign in with your password again',
  );

/**
 * Completes a sign-in: the challenge must be live and the proof right. Returns the user to
 * start a session for. A wrong proof is counted on the challenge (ended at the 5th) and audited.
 */
export async function completeChallenge(
  db: Db,
  ring: Keyring,
  challenge: string,
  proof: Proof,
  meta: { ip: string | null; requestId: string },
): Promise<{
  tenantId: string;
  id: string;
  email: string;
  role: 'owner' | 'admin' | 'editor' | 'viewer';
  method: ProofMethod;
}> {
  const idHash = await sha256Hex(challenge);
  const now = Date.now();
  const found = await db
    .select({
      tenantId: mfaChallenges.tenantId,
      failures: mfaChallenges.failures,
      id: users.id,
      email: users.email,
      role: users.role,
    })
    .from(mfaChallenges)
    .innerJoin(users, and(eq(users.id, mfaChallenges.userId), eq(users.tenantId, mfaChallenges.tenantId)))
    .where(and(eq(mfaChallenges.idHash, idHash), gt(mfaChallenges.expiresAt, now)))
    .get();
  if (!found || found.failures >= MAX_CHALLENGE_FAILURES) throw invalid();
  const actor = { type: 'anonymous' as const, id: found.id, label: found.email };
  const method = await checkProof(db, ring, { tenantId: found.tenantId, userId: found.id }, proof, meta.ip);
  if (!method) {
    const failures = found.failures + 1;
    await db
      .update(mfaChallenges)
      .set({ failures: sql`${mfaChallenges.failures} + 1` })
      .where(and(eq(mfaChallenges.tenantId, found.tenantId), eq(mfaChallenges.idHash, idHash)));
    await recordAudit(db, {
      tenantId: found.tenantId,
      actor,
      action: 'mfa.challenge_failed',
      targetType: 'user',
      targetId: found.id,
      context: { method: proof.recoveryCode !== undefined ? 'recovery_code' : 'totp', failures },
      ...meta,
    });
    const left = MAX_CHALLENGE_FAILURES - failures;
    throw new AppError(
      'invalid_mfa_code',
      left > 0
        ? `That code is wrong, already used or expired (${left} ${left === 1 ? 'try' : 'tries'} left)`
        : 'That code is wrong; too many wrong codes, so sign in with your password again',
    );
  }
  // Single use: whoever deletes the row completes the sign-in.
  const used = await db
    .delete(mfaChallenges)
    .where(and(eq(mfaChallenges.tenantId, found.tenantId), eq(mfaChallenges.idHash, idHash)));
  if ((used.meta?.changes ?? 0) === 0) throw invalid();
  if (method === 'recovery_code')
    await recordAudit(db, {
      tenantId: found.tenantId,
      actor: { type: 'user', id: found.id, label: found.email },
      action: 'mfa.recovery_code_used',
      targetType: 'user',
      targetId: found.id,
      context: { remaining: await recoveryCodesLeft(db, found.tenantId, found.id) },
      ...meta,
    });
  return { tenantId: found.tenantId, id: found.id, email: found.email, role: found.role, method };
}
