/**
 * The run index's reads and writes, as plain functions over the object's SqlStorage
 * (run-index.ts wires them to RPC methods). Every read is one indexed range, newest first.
 */
import type {
  EngineAuditEntry,
  EngineAuditQuery,
  IndexBatch,
  IndexOverview,
  RunPageQuery,
  RunSummary,
} from './index-types';
import { HOUR_MS } from '../stats/run-stats';

/**
 * A running run with an attempt in flight and no flush this long gets a nudge: the default
 * attempt time limit plus its report margin, rounded up. The nudge re-sends only attempts
 * past their own deadline, so nudging a run with a slower step early costs one call.
 */
export const STALLED_AFTER_MS = 60_000;
/** Any running run with no flush this long gets a nudge (delays and backoffs wake on their own alarm). */
export const QUIET_AFTER_MS = 5 * 60_000;
type Bind = (string | number | null)[];

/** The step statuses the index keeps (see writeBatch). */
export const INDEXED_STEP_STATUSES = new Set(['succeeded', 'failed', 'skipped']);

/** Upserts the run's summary and changed steps, inserts its new engine audit entries. */
export function writeBatch(sql: SqlStorage, b: IndexBatch, now: number): void {
  const r = b.run;
  // Most flushes after the first leave the status as it was. An upsert that sets `status`
  // rewrites the status and in-flight index entries even when the value is the same (3 rows
  // billed instead of 1), so the unchanged case is a plain update of the other columns.
  const sameStatus = sql
    .exec(
      `UPDATE runs SET error = ?, started_at = ?, finished_at = ?, updated_at = ?, in_flight = ?
       WHERE id = ? AND status = ? RETURNING id`,
      r.error ? JSON.stringify(r.error) : null,
      r.startedAt,
      r.finishedAt,
      now,
      r.inFlight ? 1 : 0,
      r.id,
      r.status,
    )
    .toArray().length;
  if (!sameStatus)
    sql.exec(
      `INSERT INTO runs (id, workflow_id, workflow_key, version, status, trigger_type, trigger_ref, error, retry_of,
                       created_at, started_at, finished_at, updated_at, in_flight)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, error = excluded.error,
       started_at = excluded.started_at, finished_at = excluded.finished_at,
       updated_at = excluded.updated_at, in_flight = excluded.in_flight`,
      r.id,
      r.workflowId,
      r.workflowKey,
      r.version,
      r.status,
      r.triggerType,
      r.triggerRef,
      r.error ? JSON.stringify(r.error) : null,
      r.retryOf,
      r.createdAt,
      r.startedAt,
      r.finishedAt,
      now,
      r.inFlight ? 1 : 0,
    );
  // Only finished steps: the index's steps are read for finished steps' timings (the dashboard)
  // and removed with their run; a queued or running step would be a row written for nothing,
  // and written again when it ends.
  for (const s of b.steps.filter((step) => INDEXED_STEP_STATUSES.has(step.status)))
    sql.exec(
      `INSERT INTO steps (run_id, step_id, type, status, attempts, seq, started_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         seq = excluded.seq, started_at = excluded.started_at, finished_at = excluded.finished_at`,
      r.id,
      s.stepId,
      s.type,
      s.status,
      s.attempts,
      s.seq,
      s.startedAt,
      s.finishedAt,
    );
  // The id is derived from the entry, so a flush retried after an unseen success adds nothing.
  for (const a of b.audit)
    sql.exec(
      `INSERT INTO audit (at, id, action, run_id, workflow_key, context) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      a.at,
      engineAuditId(r.id, a.action, a.at, a.context),
      a.action,
      r.id,
      r.workflowKey,
      JSON.stringify(a.context ?? null),
    );
  for (const action of new Set(b.audit.map((a) => a.action)))
    sql.exec('INSERT INTO audit_actions (action) VALUES (?) ON CONFLICT DO NOTHING', action);
}

/** `aud_e` + 64-bit FNV-1a of the entry: stable across retries, unique enough within one tenant. */
export function engineAuditId(runId: string, action: string, at: number, context: unknown): string {
  const text = `${runId}|${action}|${at}|${JSON.stringify(context ?? null)}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `aud_e${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

interface RunRow {
  id: string;
  workflow_key: string;
  version: number;
  status: RunSummary['status'];
  trigger_type: string;
  error: string | null;
  retry_of: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

function summary(row: RunRow): RunSummary {
  return {
    id: row.id,
    workflow: row.workflow_key,
    version: row.version,
    status: row.status,
    triggerType: row.trigger_type,
    error: row.error ? (JSON.parse(row.error) as RunSummary['error']) : null,
    retryOf: row.retry_of,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

const SUMMARY_COLUMNS =
  'id, workflow_key, version, status, trigger_type, error, retry_of, created_at, started_at, finished_at';

/** One page of the Explorer, newest first; `limit + 1` rows tell whether another page exists. */
export function runPage(sql: SqlStorage, q: RunPageQuery): { runs: RunSummary[]; more: boolean } {
  const where: string[] = [];
  const bind: Bind = [];
  if (q.status) {
    where.push('status = ?');
    bind.push(q.status);
  }
  if (q.workflow) {
    where.push('workflow_key = ?');
    bind.push(q.workflow);
  }
  if (q.cursor) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    bind.push(q.cursor.createdAt, q.cursor.createdAt, q.cursor.id);
  }
  const rows = sql
    .exec<RunRow & Record<string, SqlStorageValue>>(
      `SELECT ${SUMMARY_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...bind,
      q.limit + 1,
    )
    .toArray();
  return { runs: rows.slice(0, q.limit).map(summary), more: rows.length > q.limit };
}

export function runSummary(sql: SqlStorage, runId: string): RunSummary | null {
  const row = sql
    .exec<RunRow & Record<string, SqlStorageValue>>(`SELECT ${SUMMARY_COLUMNS} FROM runs WHERE id = ?`, runId)
    .toArray()[0];
  return row ? summary(row) : null;
}

/**
 * The engine's audit entries under GET /api/audit's filters, newest first. Its actor is
 * always the engine: an actor filter naming anyone else matches none of them.
 */
export function engineAuditPage(sql: SqlStorage, q: EngineAuditQuery): EngineAuditEntry[] {
  if (q.actor !== undefined && q.actor.toLowerCase() !== 'engine') return [];
  const where: string[] = [];
  const bind: Bind = [];
  if (q.run) {
    where.push('run_id = ?');
    bind.push(q.run);
  }
  if (q.action) {
    // Against the engine's few known actions first: a filter matching none answers at once.
    const prefix = q.action.endsWith('*') ? q.action.slice(0, -1) : null;
    const known = sql
      .exec<{ action: string }>('SELECT action FROM audit_actions')
      .toArray()
      .map((r) => r.action);
    const matching = known.filter((a) => (prefix === null ? a === q.action : a.startsWith(prefix)));
    if (!matching.length) return [];
    if (matching.length < known.length) {
      where.push('action IN (SELECT value FROM json_each(?))');
      bind.push(JSON.stringify(matching));
    }
  }
  if (q.since !== undefined) {
    where.push('at >= ?');
    bind.push(q.since);
  }
  if (q.before !== undefined) {
    where.push('at < ?');
    bind.push(q.before);
  }
  if (q.cursor) {
    where.push('(at < ? OR (at = ? AND id < ?))');
    bind.push(q.cursor.at, q.cursor.at, q.cursor.id);
  }
  const rows = sql
    .exec<{ id: string; at: number; action: string; run_id: string; workflow_key: string; context: string | null }>(
      `SELECT id, at, action, run_id, workflow_key, context FROM audit
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      ...bind,
      q.limit,
    )
    .toArray();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actorType: 'system',
    actorId: null,
    actorLabel: 'engine',
    action: r.action,
    targetType: 'workflow',
    targetId: r.workflow_key,
    runId: r.run_id,
    context: r.context ? (JSON.parse(r.context) as Record<string, unknown> | null) : null,
    ip: null,
    requestId: null,
  }));
}

/** Runs per hour of the window (created_at >= ?1). The hour is inlined, not bound, so the division stays integral. */
export const RUNS_PER_HOUR_SQL = `
  SELECT (created_at / ${HOUR_MS}) * ${HOUR_MS} AS hour, count(*) AS total,
         sum(status = 'succeeded') AS succeeded, sum(status = 'failed') AS failed
  FROM runs INDEXED BY runs_created_idx WHERE created_at >= ? GROUP BY hour ORDER BY hour`;

/**
 * p95 by nearest rank: the ceil(0.95 n)-th shortest duration of each workflow step. Delay
 * steps wait on purpose and are left out. The window's runs by created_at drive the join
 * (CROSS JOIN keeps them the outer loop), each run's steps found by its primary key.
 */
export const SLOWEST_STEPS_SQL = `
  WITH durations AS (
    SELECT r.workflow_key AS workflow, s.step_id AS step, s.finished_at - s.started_at AS ms
    FROM runs r INDEXED BY runs_created_idx
    CROSS JOIN steps s ON s.run_id = r.id
    WHERE r.created_at >= ? AND s.type != 'delay' AND s.status IN ('succeeded', 'failed')
      AND s.started_at IS NOT NULL AND s.finished_at IS NOT NULL
  ),
  ranked AS (
    SELECT workflow, step, ms,
           row_number() OVER (PARTITION BY workflow, step ORDER BY ms) AS rank,
           count(*) OVER (PARTITION BY workflow, step) AS n
    FROM durations
  )
  SELECT workflow, step, n AS count, CAST(round(avg(ms)) AS INTEGER) AS avgMs,
         max(CASE WHEN rank = (n * 95 + 99) / 100 THEN ms END) AS p95Ms, max(ms) AS maxMs
  FROM ranked GROUP BY workflow, step ORDER BY p95Ms DESC, avgMs DESC LIMIT 10`;

export const LATEST_FAILURES_SQL = `
  SELECT id, workflow_key AS workflow, version, error, created_at AS createdAt, finished_at AS finishedAt
  FROM runs INDEXED BY runs_status_created_idx
  WHERE status = 'failed' AND created_at >= ? ORDER BY created_at DESC LIMIT 10`;

/** The dashboard's three reads over the window's runs (created_at >= since). */
export function overviewRows(sql: SqlStorage, since: number): IndexOverview {
  return {
    perHour: sql.exec<IndexOverview['perHour'][number]>(RUNS_PER_HOUR_SQL, since).toArray(),
    slowest: sql.exec<IndexOverview['slowest'][number]>(SLOWEST_STEPS_SQL, since).toArray(),
    failures: sql.exec<IndexOverview['failures'][number]>(LATEST_FAILURES_SQL, since).toArray(),
  };
}

/** A workflow by id and key: its runs are found through the key's index, and told apart from a deleted namesake's by id. */
export interface WorkflowRef {
  id: string;
  key: string;
}

/** The ids of a workflow's runs. */
export function workflowRunIds(sql: SqlStorage, workflow: WorkflowRef): string[] {
  return sql
    .exec<{ id: string }>(
      'SELECT id FROM runs INDEXED BY runs_workflow_created_idx WHERE workflow_key = ? AND workflow_id = ?',
      workflow.key,
      workflow.id,
    )
    .toArray()
    .map((r) => r.id);
}

/** A workflow's runs: how many, and how many still going (what deleting it would remove). */
export function workflowRunCounts(sql: SqlStorage, workflow: WorkflowRef): { total: number; inFlight: number } {
  const row = sql
    .exec<{ total: number; live: number | null }>(
      `SELECT count(*) AS total, sum(status IN ('queued', 'running')) AS live FROM runs INDEXED BY runs_workflow_created_idx
       WHERE workflow_key = ? AND workflow_id = ?`,
      workflow.key,
      workflow.id,
    )
    .one();
  return { total: Number(row.total), inFlight: Number(row.live ?? 0) };
}

/**
 * Removes runs' rows (summary, steps, engine audit entries, the detail of runs imported from
 * D1) and lists their objects for purging, in one transaction (the caller wraps it). `ids`
 * travel as one JSON parameter.
 */
export function forgetRuns(sql: SqlStorage, ids: string[]): void {
  if (!ids.length) return;
  const json = JSON.stringify(ids);
  const inIds = 'IN (SELECT value FROM json_each(?))';
  sql.exec(`DELETE FROM steps WHERE run_id ${inIds}`, json);
  sql.exec(`DELETE FROM audit WHERE run_id ${inIds}`, json);
  sql.exec(`DELETE FROM legacy_steps WHERE run_id ${inIds}`, json);
  sql.exec(`DELETE FROM legacy_runs WHERE run_id ${inIds}`, json);
  sql.exec(`DELETE FROM runs WHERE id ${inIds}`, json);
  sql.exec(`INSERT INTO purge (run_id) SELECT value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`, json);
}

/**
 * Runs that should be moving but may not be, for the upkeep's nudge: an attempt in flight
 * and quiet for STALLED_AFTER_MS (listed first, so long-waiting runs cannot crowd them
 * out), then any run quiet for QUIET_AFTER_MS. Served by runs_live_idx (runs still going only).
 */
export function stalledRuns(sql: SqlStorage, now: number, limit: number): string[] {
  return sql
    .exec<{ id: string }>(
      `SELECT id FROM runs INDEXED BY runs_live_idx
       WHERE status IN ('queued', 'running') AND updated_at < ? AND (in_flight = 1 OR updated_at < ?)
       ORDER BY in_flight DESC, updated_at LIMIT ?`,
      now - STALLED_AFTER_MS,
      now - QUIET_AFTER_MS,
      limit,
    )
    .toArray()
    .map((r) => r.id);
}
