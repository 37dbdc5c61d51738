/**
 * The operator's master keys and the per-tenant data keys derived from them.
 *
 * `AUTOMATE_MASTER_KEY` holds one or more comma-separated `<keyId>:<base64 of 32 bytes>`
 * entries. The first encrypts new values; the others only decrypt, which is what lets
 * the master key rotate with no downtime (docs/secrets.md). A tenant's data key is
 * HKDF-SHA256(master, salt = "automate/secrets/v1", info = tenant id): one tenant's key
 * opens nothing of another's, and the master key itself never touches a value.
 */
import type { Env } from '../env';
import { AppError } from '../errors';
import { fromBase64 } from '../lib/crypto';
import { SecretError } from './secret-error';

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const HKDF_SALT = new TextEncoder().encode('automate/secrets/v1');

export interface Keyring {
  /** Id of the key that encrypts new values. */
  readonly currentId: string;
  /** Every id that can decrypt, current first. */
  readonly ids: readonly string[];
  has(keyId: string): boolean;
  /** The AES-256-GCM key for one tenant under one master key. */
  tenantKey(keyId: string, tenantId: string): Promise<CryptoKey>;
}

/**
 * Parses the setting. Errors name the entry by position, never its material.
 * @throws SecretError NOT_CONFIGURED when the setting is missing or malformed.
 */
export async function parseKeyring(setting: string | undefined): Promise<Keyring> {
  if (!setting?.trim()) {
    throw new SecretError(
      'NOT_CONFIGURED',
      'Stored secrets are not configured: the operator must set AUTOMATE_MASTER_KEY (docs/secrets.md)',
    );
  }
  const masters = new Map<string, CryptoKey>();
  const entries = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const bad = (why: string) =>
      new SecretError(
        'NOT_CONFIGURED',
        `AUTOMATE_MASTER_KEY entry ${i + 1} ${why}; the format is <keyId>:<base64 of 32 random bytes> (docs/secrets.md)`,
      );
    const sep = entry.indexOf(':');
    const id = sep > 0 ? entry.slice(0, sep) : '';
    if (!KEY_ID.test(id)) throw bad('has no valid key id (letters, digits, "_" or "-", max 32)');
    if (masters.has(id)) throw bad(`repeats the key id "${id}"`);
    let raw: Uint8Array;
    try {
      raw = fromBase64(entry.slice(sep + 1));
    } catch {
      throw bad('is not base64');
    }
    if (raw.byteLength !== 32) throw bad(`decodes to ${raw.byteLength} bytes, not 32`);
    masters.set(id, await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveKey']));
  }
  const ids = [...masters.keys()];
  const derived = new Map<string, Promise<CryptoKey>>();
  return {
    currentId: ids[0],
    ids,
    has: (keyId) => masters.has(keyId),
    tenantKey(keyId, tenantId) {
      const master = masters.get(keyId);
      if (!master) {
        return Promise.reject(
          new SecretError(
            'UNDECRYPTABLE',
            `master key id "${keyId}" is not in AUTOMATE_MASTER_KEY; add that entry back (docs/secrets.md)`,
          ),
        );
      }
      const cacheKey = `${keyId}\u0000${tenantId}`;
      let key = derived.get(cacheKey);
      if (!key) {
        key = crypto.subtle.deriveKey(
          { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: new TextEncoder().encode(tenantId) },
          master,
          { name: 'AES-GCM', length: 256 },
          false,
          ['encrypt', 'decrypt'],
        );
        derived.set(cacheKey, key);
      }
      return key;
    },
  };
}

// Parsing imports keys; one parse per isolate per setting is enough.
let cached: { setting: string; ring: Promise<Keyring> } | undefined;

/** The keyring for this deployment, parsed once per isolate. */
export function keyringFromEnv(env: Pick<Env, 'AUTOMATE_MASTER_KEY'>): Promise<Keyring> {
  const setting = env.AUTOMATE_MASTER_KEY ?? '';
  if (cached?.setting !== setting) {
    const ring = parseKeyring(setting);
    // A bad setting is not cached: the next call reports it again rather than a stale promise.
    ring.catch(() => {
      if (cached?.ring === ring) cached = undefined;
    });
    cached = { setting, ring };
  }
  return cached.ring;
}

/** The keyring for a request that must write sealed data: a missing master key is the operator's to fix (503). */
export function requireKeyring(env: Pick<Env, 'AUTOMATE_MASTER_KEY'>): Promise<Keyring> {
  return keyringFromEnv(env).catch((e: unknown) => {
    if (e instanceof SecretError) throw new AppError('secrets_not_configured', e.message);
    throw e;
  });
}
