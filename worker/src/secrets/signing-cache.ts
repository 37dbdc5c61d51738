/**
 * Decrypted webhook signing secrets, kept per isolate so a webhook does not read and
 * decrypt its secret on every delivery. An entry is valid only while the tenant's
 * `secrets_revision` (bumped in the same batch as every secret write, and read with the
 * webhook's workflow lookup) is the one it was read under, and until the previous value's
 * 24-hour window ends: a rotation or delete made in any isolate is honoured by the very
 * next webhook. Values never leave this module except to the signature check.
 */
interface Entry {
  revision: number;
  /** The deployment's AUTOMATE_MASTER_KEY when read: a changed (or removed) key reads again. */
  masterKey: string | undefined;
  values: string[];
  /** The set changes by itself then (the previous value's window ends). */
  expiresAt: number;
}

const MAX_ENTRIES = 1000;
const entries = new Map<string, Entry>();
/** Last-used bookkeeping at most once a minute per secret and isolate (the SQL debounces across isolates). */
const TOUCH_EVERY_MS = 60_000;
const touched = new Map<string, number>();

const keyOf = (tenantId: string, key: string) => `${tenantId}\u0000${key}`;

export function cachedSigningValues(
  tenantId: string,
  key: string,
  revision: number,
  masterKey: string | undefined,
  now: number,
): string[] | null {
  const entry = entries.get(keyOf(tenantId, key));
  if (!entry) return null;
  if (entry.revision !== revision || entry.masterKey !== masterKey || entry.expiresAt <= now) {
    entries.delete(keyOf(tenantId, key));
    return null;
  }
  return entry.values;
}

export function rememberSigningValues(
  tenantId: string,
  key: string,
  revision: number,
  masterKey: string | undefined,
  values: string[],
  expiresAt = Number.POSITIVE_INFINITY,
): void {
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(keyOf(tenantId, key), { revision, masterKey, values, expiresAt });
}

/** True when this isolate should write the secret's last-used time now. */
export function touchDue(tenantId: string, key: string, now: number): boolean {
  const k = keyOf(tenantId, key);
  const last = touched.get(k);
  if (last !== undefined && now - last < TOUCH_EVERY_MS) return false;
  if (touched.size >= MAX_ENTRIES) touched.clear();
  touched.set(k, now);
  return true;
}
