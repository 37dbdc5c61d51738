/**
 * Runs recorded in D1 before the run index: how the index takes them in (the minute cron's
 * import, run/legacy-import.ts) and gives back their detail (GET /api/runs/{id} when the
 * run's object holds no state). Plain functions over the object's SqlStorage, like
 * index-queries.ts; run-index.ts wires them to RPC methods.
 */
import type { LegacyRecord, LegacyRun, LegacyStep } from './index-types';
import { INDEXED_STEP_STATUSES, runSummary } from './index-queries';
import { type LegacyStepRow, legacyStepOf } from '../run/legacy-rows';

/**
 * Writes one batch of legacy runs (the caller wraps it in a transaction). A run the index
 * already has, from its own object's flush or an earlier import whose D1 delete did not
 * happen, is left as it is: the index's data wins, and a repeated import adds nothing. A run
 * the index removed (listed for purging) is not brought back. The engine's audit entries are
 * copied under their D1 ids either way: an object that flushed here after the upgrade sent
 * only its later entries. Returns how many runs were new.
 */
export function importLegacyRuns(sql: SqlStorage, runs: LegacyRun[]): number {
  let added = 0;
  for (const { run: r, trigger, steps, audit } of runs) {
    if (sql.exec('SELECT 1 FROM purge WHERE run_id = ?', r.id).toArray().length) continue;
    const inserted = sql
      .exec(
        `INSERT INTO runs (id, workflow_id, workflow_key, version, status, trigger_type, trigger_ref, error, retry_of,
                           created_at, started_at, finished_at, updated_at, in_flight)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        r.id,
        r.workflowId,
        r.workflowKey,
        r.version,
        r.status,
        r.triggerType,
        r.triggerRef,
        r.error,
        r.retryOf,
        r.createdAt,
        r.startedAt,
        r.finishedAt,
        r.updatedAt,
        r.inFlight ? 1 : 0,
      )
      .toArray().length;
    if (inserted) {
      added++;
      sql.exec('INSERT INTO legacy_runs (run_id, trigger) VALUES (?, ?) ON CONFLICT DO NOTHING', r.id, trigger);
      for (const s of steps) insertStep(sql, r.id, s);
    }
    for (const a of audit)
      sql.exec(
        `INSERT INTO audit (at, id, action, run_id, workflow_key, context) VALUES (?, ?, 'step.attempt', ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        a.at,
        a.id,
        r.id,
        r.workflowKey,
        a.context,
      );
  }
  if (runs.some((r) => r.audit.length))
    sql.exec(`INSERT INTO audit_actions (action) VALUES ('step.attempt') ON CONFLICT DO NOTHING`);
  return added;
}

function insertStep(sql: SqlStorage, runId: string, s: LegacyStep) {
  sql.exec(
    `INSERT INTO legacy_steps (run_id, step_id, type, status, attempts, seq, attempt_log, input, output, error,
                               started_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    runId,
    s.stepId,
    s.type,
    s.status,
    s.attempts,
    s.seq,
    s.attemptLog,
    s.input,
    s.output,
    s.error,
    s.startedAt,
    s.finishedAt,
  );
  // The dashboard's step timings, as a run object's flush would have written them.
  if (INDEXED_STEP_STATUSES.has(s.status))
    sql.exec(
      `INSERT INTO steps (run_id, step_id, type, status, attempts, seq, started_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      runId,
      s.stepId,
      s.type,
      s.status,
      s.attempts,
      s.seq,
      s.startedAt,
      s.finishedAt,
    );
}

/** An imported run's summary, trigger event and steps (in the order they became ready), or null. */
export function legacyRecord(sql: SqlStorage, runId: string): LegacyRecord | null {
  const head = sql
    .exec<{ trigger: string | null }>('SELECT trigger FROM legacy_runs WHERE run_id = ?', runId)
    .toArray()[0];
  const run = head && runSummary(sql, runId);
  if (!run) return null;
  const steps = sql
    .exec<LegacyStepRow & Record<string, SqlStorageValue>>(
      `SELECT step_id, type, status, attempts, seq, attempt_log, input, output, error, started_at, finished_at
       FROM legacy_steps WHERE run_id = ? ORDER BY seq, step_id`,
      runId,
    )
    .toArray()
    .map(legacyStepOf);
  return { run, trigger: head.trigger, steps };
}
