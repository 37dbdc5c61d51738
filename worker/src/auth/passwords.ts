/**
 * Password hashing: PBKDF2-HMAC-SHA256, 16-byte random salt, 100,000 iterations.
 *
 * OWASP's Password Storage Cheat Sheet asks 600,000 iterations for PBKDF2-SHA256, but
 * WebCrypto on Workers refuses more than 100,000. Argon2id/scrypt in WASM would blow
 * the per-request CPU budget, so we take the Workers maximum and store the parameters
 * with each hash (`pbkdf2-sha256$<iterations>$<salt>$<hash>`): raising the cost later
 * only needs a rehash on next login, no migration. See docs/security.md.
 */
import { fromBase64, randomBytes, timingSafeEqual, toBase64 } from '../lib/crypto';

export const PBKDF2_ITERATIONS = 100_000;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${toBase64(salt)}$${toBase64(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iter, salt, hash] = stored.split('$');
  if (scheme !== 'pbkdf2-sha256' || !iter || !salt || !hash) return false;
  const actual = await derive(password, fromBase64(salt), Number(iter));
  return timingSafeEqual(actual, fromBase64(hash));
}

/** A real hash to verify against when the account does not exist, so timing does not reveal it. */
export const DUMMY_HASH = 'pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
