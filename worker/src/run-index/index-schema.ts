/**
 * The tables of a tenant's run index (run-index.ts), in the object's own SQLite storage.
 * Summaries only: a run's trigger event, step inputs, outputs and attempt logs stay in the
 * run's own object (GET /api/runs/{id} reads them there). `CREATE ... IF NOT EXISTS`
 * runs on every start of the object, so a new column or index is added here as its own
 * statement and reaches every existing index the next time it wakes.
 */
export const INDEX_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS runs (
     id TEXT PRIMARY KEY,
     workflow_id TEXT NOT NULL,
     workflow_key TEXT NOT NULL,
     version INTEGER NOT NULL,
     status TEXT NOT NULL,
     trigger_type TEXT NOT NULL,
     trigger_ref TEXT,
     error TEXT,
     retry_of TEXT,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     updated_at INTEGER NOT NULL,
     in_flight INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID`,
  // The Explorer's pages: newest first, alone or within one status or one workflow. Each index
  // costs a row written per run (billed like a table row), so there is no other: a workflow's
  // runs by id (delete, its run count) are found through its key's index.
  `CREATE INDEX IF NOT EXISTS runs_created_idx ON runs (created_at, id)`,
  `CREATE INDEX IF NOT EXISTS runs_status_created_idx ON runs (status, created_at, id)`,
  `CREATE INDEX IF NOT EXISTS runs_workflow_created_idx ON runs (workflow_key, created_at, id)`,
  `DROP INDEX IF EXISTS runs_workflow_id_idx`,
  // The sweep's backstop: only runs still going are in this index (few, whatever the history),
  // keyed by status alone so a flush that only moves updated_at does not rewrite it.
  `CREATE INDEX IF NOT EXISTS runs_live_idx ON runs (status) WHERE status IN ('queued', 'running')`,
  `CREATE TABLE IF NOT EXISTS steps (
     run_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     type TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     PRIMARY KEY (run_id, step_id)
   ) WITHOUT ROWID`,
  // The engine's audit entries (step attempts); governance entries stay in D1's audit_log.
  // Keyed by (at, id) without a rowid: the key is the newest-first order, so one row per entry
  // plus one in audit_run_idx is all an insert writes.
  `CREATE TABLE IF NOT EXISTS audit (
     at INTEGER NOT NULL,
     id TEXT NOT NULL,
     action TEXT NOT NULL,
     run_id TEXT NOT NULL,
     workflow_key TEXT NOT NULL,
     context TEXT,
     PRIMARY KEY (at, id)
   ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS audit_run_idx ON audit (run_id, at, id)`,
  // The engine's few distinct actions: an action filter that matches none of them answers at
  // once instead of walking every entry.
  `CREATE TABLE IF NOT EXISTS audit_actions (action TEXT PRIMARY KEY) WITHOUT ROWID`,
  // Runs whose rows are gone (retention, workflow deleted) and whose objects still hold their details.
  `CREATE TABLE IF NOT EXISTS purge (run_id TEXT PRIMARY KEY)`,
  // The detail of runs recorded in D1 before this index (run/legacy-import.ts), carried here so
  // their D1 rows can go: GET /api/runs/{id} reads it when the run's object holds no state.
  // Rowid tables, not WITHOUT ROWID: a trigger event or a step's data can fill many pages.
  // Removed with their run (forgetRuns); nothing new is ever written here.
  `CREATE TABLE IF NOT EXISTS legacy_runs (run_id TEXT PRIMARY KEY, trigger TEXT)`,
  `CREATE TABLE IF NOT EXISTS legacy_steps (
     run_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     type TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     attempt_log TEXT,
     input TEXT,
     output TEXT,
     error TEXT,
     started_at INTEGER,
     finished_at INTEGER,
     PRIMARY KEY (run_id, step_id)
   )`,
];
