/**
 * Tenant API tokens: `atm_` + 32 random bytes. Only a SHA-256 is stored (the value has
 * 256 bits of entropy, so a slow hash buys nothing); lookups go by that hash.
 */
import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../db/client';
import { apiTokens } from '../db/schema';
import { base64url, newId, randomBytes, sha256Hex } from '../lib/crypto';
import type { Principal, Scope } from './principal';

export const TOKEN_PREFIX = 'atm_';
/** Write last-used time at most this often: a D1 write per API call is not worth it. */
const LAST_USED_GRANULARITY_MS = 60_000;

export async function createToken(_db: Db, tenantId: string, name: string, scopes: Scope[], createdBy: string) {
  const token = TOKEN_PREFIX + base64url(randomBytes(32));
  const row = {
    id: newId('tok'),
    tenantId,
    name,
    prefix: token.slice(0, 10),
    tokenHash: await sha256Hex(token),
    scopes,
    createdBy,
    createdAt: Date.now(),
  };
  return { row, token };
}

export function insertToken(db: Db, row: Awaited<ReturnType<typeof createToken>>['row']) {
  return db.insert(apiTokens).values(row);
}

export async function listTokens(db: Db, tenantId: string) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      scopes: apiTokens.scopes,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .where(eq(apiTokens.tenantId, tenantId))
    .orderBy(desc(apiTokens.createdAt));
}

export async function findActiveToken(db: Db, tenantId: string, id: string) {
  return db
    .select({ id: apiTokens.id, name: apiTokens.name })
    .from(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .get();
}

export function revokeToken(db: Db, tenantId: string, id: string) {
  return db
    .update(apiTokens)
    .set({ revokedAt: Date.now() })
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, id), isNull(apiTokens.revokedAt)));
}

export async function resolveToken(db: Db, token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const row = await db
    .select({ id: apiTokens.id, tenantId: apiTokens.tenantId, name: apiTokens.name, scopes: apiTokens.scopes })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, await sha256Hex(token)), isNull(apiTokens.revokedAt)))
    .get();
  if (!row) return null;
  return { type: 'token', tenantId: row.tenantId, tokenId: row.id, tokenName: row.name, scopes: row.scopes };
}

export function touchToken(db: Db, tenantId: string, id: string) {
  const now = Date.now();
  return db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(apiTokens.tenantId, tenantId),
        eq(apiTokens.id, id),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - LAST_USED_GRANULARITY_MS)),
      ),
    );
}
