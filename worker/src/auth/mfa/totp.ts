/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) on WebCrypto's HMAC: no native code, runs in workerd
 * and browsers alike. Authenticator apps all speak the defaults used here: SHA-1, 6 digits,
 * 30-second steps; the other hashes exist for the RFC 6238 test vectors.
 */
import { timingSafeEqual } from '../../lib/crypto';

export type TotpHash = 'SHA-1' | 'SHA-256' | 'SHA-512';
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of now that still count: one, for clocks a little off (RFC 6238 §5.2). */
export const TOTP_WINDOW = 1;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding: the form otpauth:// URIs and authenticator apps use. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error('not base32');
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** RFC 4226 §5.3: HMAC of the 8-byte big-endian counter, dynamically truncated to `digits`. */
export async function hotp(key: Uint8Array, counter: number, digits = TOTP_DIGITS, hash: TotpHash = 'SHA-1') {
  const message = new Uint8Array(8);
  const view = new DataView(message.buffer);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const hmacKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, message));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step (RFC 6238's T) a moment falls in. */
export const timeStep = (nowMs: number) => Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);

export function totp(key: Uint8Array, nowMs: number, digits = TOTP_DIGITS, hash: TotpHash = 'SHA-1') {
  return hotp(key, timeStep(nowMs), digits, hash);
}

/**
 * The step whose code `code` is, within the window around now and after `lastUsedStep`,
 * or null. Refusing steps at or before the last accepted one is the replay protection:
 * a code, once accepted, never works again, nor do older ones.
 */
export async function matchingStep(
  key: Uint8Array,
  code: string,
  nowMs: number,
  lastUsedStep: number | null,
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const now = timeStep(nowMs);
  let found: number | null = null;
  // Every candidate is computed and compared, so timing says nothing about which matched.
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    const ok = timingSafeEqual(await hotp(key, step), code);
    if (ok && found === null && (lastUsedStep === null || step > lastUsedStep)) found = step;
  }
  return found;
}

/** What an authenticator app scans (Key Uri Format, as Google Authenticator defined it). */
export function otpauthUri(secretBase32: string, account: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({
    secret: secretBase32,
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${params}`;
}
