/**
 * Recovery codes: ten single-use codes of 80 random bits each (`xxxx-xxxx-xxxx-xxxx`,
 * base32, lowercase), shown once and stored as SHA-256 of user id and code. 80 bits make a
 * fast hash enough (no one enumerates 2^80), and the user id in the hash keeps one user's
 * code from matching another's row.
 */
import { randomBytes, sha256Hex } from '../../lib/crypto';
import { base32Encode } from './totp';

export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    (base32Encode(randomBytes(10)).toLowerCase().match(/.{4}/g) ?? []).join('-'),
  );
}

/** Spaces, dashes and case do not matter when a code is typed back. */
export const normalizeRecoveryCode = (code: string) => code.replace(/[\s-]/g, '').toLowerCase();

export const hashRecoveryCode = (userId: string, code: string) =>
  sha256Hex(`automate-mfa-recovery/v1|${userId}|${normalizeRecoveryCode(code)}`);
