/**
 * The audit log: who did what, when, to which object, from where.
 * Writers pass plain context; callers never put a secret value in it (secrets
 * are referred to by key and version only), and the secrets module scrubs on top.
 */
import { and, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client';
import { auditLog } from '../db/schema';
import { newId } from '../lib/crypto';
import type { Actor } from '../auth/principal';
import type { Env } from '../env';
import { runIndex } from '../run-index/run-index-stub';
import type { EngineAuditEntry } from '../run-index/index-types';

export interface AuditEntry {
  tenantId: string | null;
  actor: Actor;
  action: string;
  targetType?: string;
  targetId?: string;
  runId?: string;
  context?: Record<string, unknown>;
  ip?: string | null;
  requestId?: string | null;
  /** When it happened, if not now (the engine flushes entries in batches). */
  at?: number;
}

/** The insert as a statement, so callers can put it in the same D1 batch as the change it records. */
export function auditInsert(db: Db, e: AuditEntry) {
  return db.insert(auditLog).values({
    id: newId('aud'),
    tenantId: e.tenantId,
    at: e.at ?? Date.now(),
    actorType: e.actor.type,
    actorId: e.actor.id,
    actorLabel: e.actor.label,
    action: e.action,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    runId: e.runId ?? null,
    context: e.context ?? null,
    ip: e.ip ?? null,
    requestId: e.requestId ?? null,
  });
}

export async function recordAudit(db: Db, e: AuditEntry): Promise<void> {
  await auditInsert(db, e);
}

/** Where a page of the log ends: the last entry's time and id (ids break ties within a millisecond). */
export interface AuditCursor {
  at: number;
  id: string;
}

export interface AuditQuery {
  run?: string;
  /** Exact action, or a prefix ending in `*` (`secret.*`). */
  action?: string;
  /** Actor id, or label (a user's email, a token's name). */
  actor?: string;
  since?: number;
  before?: number;
  cursor?: AuditCursor;
  limit: number;
}

/**
 * Every action starting with `prefix`, as a range so audit_tenant_action_idx serves it
 * (LIKE is case-insensitive in SQLite and would not use the index). Actions are ASCII
 * (the route validates them), so the range ends at the prefix with its last character
 * incremented.
 */
function actionPrefix(prefix: string): SQL | undefined {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return and(gte(auditLog.action, prefix), lt(auditLog.action, end));
}

/**
 * Newest first, `limit` entries from after the cursor. Served by an index per filter:
 * audit_tenant_run_idx for a run, audit_tenant_action_idx for an action, else
 * audit_tenant_at_idx walked backwards; the other filters are checked on the rows it yields.
 */
export function auditQuery(db: Db, tenantId: string, q: AuditQuery) {
  const where: (SQL | undefined)[] = [eq(auditLog.tenantId, tenantId)];
  if (q.run) where.push(eq(auditLog.runId, q.run));
  if (q.action?.endsWith('*')) where.push(actionPrefix(q.action.slice(0, -1)));
  else if (q.action) where.push(eq(auditLog.action, q.action));
  if (q.actor)
    where.push(
      or(
        eq(auditLog.actorId, q.actor),
        eq(auditLog.actorLabel, q.actor),
        eq(auditLog.actorLabel, q.actor.toLowerCase()),
      ),
    );
  if (q.since !== undefined) where.push(gte(auditLog.at, q.since));
  if (q.before !== undefined) where.push(lt(auditLog.at, q.before));
  if (q.cursor)
    where.push(or(lt(auditLog.at, q.cursor.at), and(eq(auditLog.at, q.cursor.at), lt(auditLog.id, q.cursor.id))));
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(q.limit);
}

/**
 * The tenant's audit log, newest first: D1's entries (governance: who did what) merged
 * with the engine's (step attempts, kept in the tenant's run index with the runs they
 * belong to), under the same filters and the same (at, id) cursor. Each side yields at
 * most `limit` rows after the cursor, so the merged first `limit` are exact.
 */
export async function listAudit(env: Env, db: Db, tenantId: string, q: AuditQuery) {
  const [governance, engine] = await Promise.all([
    auditQuery(db, tenantId, q),
    // Typed by hand: RPC typing cannot see through `context`'s unknown values.
    runIndex(env, tenantId).audit(q) as Promise<unknown> as Promise<EngineAuditEntry[]>,
  ]);
  const merged = [...governance, ...engine.map((e) => ({ ...e, tenantId }))];
  merged.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return merged.slice(0, q.limit);
}
