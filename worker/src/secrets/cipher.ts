/**
 * AES-256-GCM encryption of one secret value. The additional data binds the ciphertext
 * to its tenant, key and version: a row copied to another tenant or key, or an old
 * ciphertext put back under a newer version, fails authentication instead of decrypting.
 */
import { fromBase64, randomBytes, toBase64 } from '../lib/crypto';
import type { Keyring } from './keyring';
import { SecretError } from './secret-error';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface SecretAddress {
  tenantId: string;
  key: string;
  version: number;
}

export interface Sealed {
  keyId: string;
  iv: string;
  ciphertext: string;
}

const additionalData = (a: SecretAddress) => encoder.encode(`automate-secret/v1|${a.tenantId}|${a.key}|${a.version}`);

/** Encrypts under the keyring's current master key. */
export async function seal(ring: Keyring, at: SecretAddress, plaintext: string): Promise<Sealed> {
  const iv = randomBytes(12);
  const key = await ring.tenantKey(ring.currentId, at.tenantId);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: additionalData(at) },
    key,
    encoder.encode(plaintext),
  );
  return { keyId: ring.currentId, iv: toBase64(iv), ciphertext: toBase64(new Uint8Array(ct)) };
}

/** @throws SecretError UNDECRYPTABLE, naming the key and version only. */
export async function open(ring: Keyring, at: SecretAddress, sealed: Sealed): Promise<string> {
  const what = `Secret "${at.key}" (version ${at.version})`;
  if (!ring.has(sealed.keyId)) {
    throw new SecretError(
      'UNDECRYPTABLE',
      `${what} is encrypted under master key id "${sealed.keyId}", which is not in AUTOMATE_MASTER_KEY; add that entry back (docs/secrets.md)`,
      { key: at.key },
    );
  }
  try {
    const key = await ring.tenantKey(sealed.keyId, at.tenantId);
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: additionalData(at) },
      key,
      fromBase64(sealed.ciphertext),
    );
    return decoder.decode(pt);
  } catch {
    // GCM cannot tell these apart, and that is the point: nothing decrypts unless all match.
    throw new SecretError(
      'UNDECRYPTABLE',
      `${what} could not be decrypted: the ciphertext was altered, was copied from another tenant or key, or master key "${sealed.keyId}" is not the one that encrypted it. Set the secret again (PUT /api/secrets/${at.key})`,
      { key: at.key },
    );
  }
}
