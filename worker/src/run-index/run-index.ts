/**
 * A tenant's run index: one Durable Object per tenant (`idFromName(tenantId)`), holding in
 * its own SQLite storage what the Explorer lists and filters (run summaries), what the
 * dashboard aggregates (step timings) and the engine's audit entries. Each run object
 * flushes to it (one RPC per flush, run-coordinator.ts); nothing that grows with traffic
 * goes to D1. Its alarm does the upkeep: nudging runs that stopped moving (the backstop
 * behind each run object's own alarm), removing runs past the tenant's retention and
 * purging their objects, all in bounded batches (docs/execution.md, "Where runs are kept").
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { DAY_MS, DEFAULT_RUN_RETENTION_DAYS } from '../tenants/settings';
import { runStub } from '../triggers/start-run';
import { INDEX_SCHEMA } from './index-schema';
import {
  engineAuditPage,
  forgetRuns,
  overviewRows,
  runPage,
  runSummary,
  stalledRuns,
  type WorkflowRef,
  workflowRunCounts,
  workflowRunIds,
  writeBatch,
} from './index-queries';
import type {
  EngineAuditEntry,
  EngineAuditQuery,
  IndexBatch,
  IndexOverview,
  LegacyRecord,
  LegacyRun,
  RunPageQuery,
  RunSummary,
} from './index-types';
import { importLegacyRuns, legacyRecord } from './legacy-queries';

/** Runs nudged per alarm. */
export const SWEEP_LIMIT = 50;
/** Expired runs removed per alarm (one transaction). */
export const PRUNE_BATCH = 500;
/** Run objects purged per alarm, and at once. */
export const PURGE_BATCH = 100;
const PURGE_CONCURRENCY = 20;
/**
 * Upkeep cadence: runs still going (a third of STALLED_AFTER_MS, so a stalled run is nudged
 * 60 to 80 s after its last flush), a backlog left, or only history to expire.
 */
const LIVE_CHECK_MS = 20_000;
const BACKLOG_MS = 1_000;
const IDLE_CHECK_MS = 60 * 60_000;

export interface UpkeepResult {
  nudged: number;
  pruned: number;
  purged: number;
  /** When the next upkeep is due, or null when the index is empty. */
  next: number | null;
}

export class RunIndex extends DurableObject<Env> {
  private tenantId: string | null = null;
  /** The alarm as last set by this instance; undefined until read. */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      for (const statement of INDEX_SCHEMA) this.sql.exec(statement);
      this.tenantId = this.sql.exec<{ v: string }>(`SELECT v FROM meta WHERE k = 'tenant'`).toArray()[0]?.v ?? null;
    });
  }

  /** Read through `this.ctx` each time, so that the bench's metered storage (worker/src/meter/) sees it. */
  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /** A run object's flush: its summary, changed steps and new engine audit entries, in one transaction. */
  async record(batch: IndexBatch): Promise<void> {
    const tenantId = batch.run.tenantId;
    this.checkTenant(tenantId);
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.claimTenant(tenantId);
      writeBatch(this.sql, batch, now);
    });
    const live = batch.run.status === 'queued' || batch.run.status === 'running';
    await this.armBy(now + (live ? LIVE_CHECK_MS : IDLE_CHECK_MS));
  }

  /**
   * Runs recorded in D1 before this index, in one transaction (legacy-queries.ts): a run
   * already here stays as it is. Returns how many were new. The alarm is armed so that
   * retention reaches them (they age by their original created time) and the sweep checks
   * any still going.
   */
  async importLegacy(tenantId: string, runs: LegacyRun[]): Promise<number> {
    this.checkTenant(tenantId);
    const added = this.ctx.storage.transactionSync(() => {
      this.claimTenant(tenantId);
      return importLegacyRuns(this.sql, runs);
    });
    const live = runs.some((r) => r.run.status === 'queued' || r.run.status === 'running');
    if (runs.length) await this.armBy(Date.now() + (live ? LIVE_CHECK_MS : IDLE_CHECK_MS));
    return added;
  }

  /** An imported run's detail (GET /api/runs/{id} when its object holds no state), or null. */
  async legacyRun(runId: string): Promise<LegacyRecord | null> {
    return legacyRecord(this.sql, runId);
  }

  /** One index per tenant: a write naming another tenant is a bug, refused before anything is written. */
  private checkTenant(tenantId: string) {
    if (this.tenantId && this.tenantId !== tenantId) throw new Error('run index: batch of another tenant');
  }

  /** The first write tells the index whose it is (retention reads that tenant's setting). */
  private claimTenant(tenantId: string) {
    if (this.tenantId) return;
    this.sql.exec(`INSERT INTO meta (k, v) VALUES ('tenant', ?) ON CONFLICT (k) DO NOTHING`, tenantId);
    this.tenantId = tenantId;
  }

  async list(q: RunPageQuery): Promise<{ runs: RunSummary[]; more: boolean }> {
    return runPage(this.sql, q);
  }

  async get(runId: string): Promise<RunSummary | null> {
    return runSummary(this.sql, runId);
  }

  /** True while a removed run (retention, workflow deleted) waits for its object to be purged. */
  async forgotten(runId: string): Promise<boolean> {
    return this.sql.exec('SELECT 1 FROM purge WHERE run_id = ?', runId).toArray().length > 0;
  }

  async audit(q: EngineAuditQuery): Promise<EngineAuditEntry[]> {
    return engineAuditPage(this.sql, q);
  }

  async overview(since: number): Promise<IndexOverview> {
    return overviewRows(this.sql, since);
  }

  async workflowRuns(workflow: WorkflowRef): Promise<{ total: number; inFlight: number }> {
    return workflowRunCounts(this.sql, workflow);
  }

  /** A deleted workflow's runs: rows removed now, objects purged by the upkeep. */
  async forgetWorkflow(workflow: WorkflowRef): Promise<number> {
    const ids = workflowRunIds(this.sql, workflow);
    this.ctx.storage.transactionSync(() => forgetRuns(this.sql, ids));
    if (ids.length) await this.armBy(Date.now() + BACKLOG_MS);
    return ids.length;
  }

  async alarm(): Promise<void> {
    await this.upkeep(Date.now());
  }

  /** One round of upkeep (the alarm's work; tests call it through the alarm). */
  async upkeep(now: number): Promise<UpkeepResult> {
    const nudged = await this.sweep(now);
    const pruned = await this.prune(now);
    const { purged, left } = await this.purgeSome();
    const has = (query: string) => this.sql.exec(query).toArray().length > 0;
    const next =
      pruned === PRUNE_BATCH || left
        ? now + BACKLOG_MS
        : has(`SELECT 1 FROM runs WHERE status IN ('queued', 'running') LIMIT 1`)
          ? now + LIVE_CHECK_MS
          : has('SELECT 1 FROM runs LIMIT 1')
            ? now + IDLE_CHECK_MS
            : null;
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
      this.alarmAt = null;
    } else {
      await this.ctx.storage.setAlarm(next);
      this.alarmAt = next;
    }
    return { nudged, pruned, purged, next };
  }

  /** Sets the alarm to `at` unless it is already due sooner. */
  private async armBy(at: number) {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  /** The backstop behind each run object's own alarm (stalledRuns in index-queries.ts). */
  private async sweep(now: number): Promise<number> {
    let nudged = 0;
    await inParallel(stalledRuns(this.sql, now, SWEEP_LIMIT), PURGE_CONCURRENCY, async (id) => {
      try {
        await runStub(this.env, id).nudge();
        nudged++;
      } catch (e) {
        console.error(JSON.stringify({ level: 'error', runId: id, message: 'nudge failed', error: String(e) }));
      }
    });
    return nudged;
  }

  /** Removes up to PRUNE_BATCH finished runs older than the tenant's retention, oldest first. */
  private async prune(now: number): Promise<number> {
    if (!this.tenantId) return 0;
    // Read each time: a lowered setting takes effect on the next round.
    const row = await this.env.DB.prepare('SELECT run_retention_days AS days FROM tenants WHERE id = ?')
      .bind(this.tenantId)
      .first<{ days: number | null }>();
    const cutoff = now - (row?.days ?? DEFAULT_RUN_RETENTION_DAYS) * DAY_MS;
    const ids = this.sql
      .exec<{ id: string }>(
        `SELECT id FROM runs INDEXED BY runs_created_idx
         WHERE status IN ('succeeded', 'failed') AND created_at < ? ORDER BY created_at LIMIT ?`,
        cutoff,
        PRUNE_BATCH,
      )
      .toArray()
      .map((r) => r.id);
    this.ctx.storage.transactionSync(() => forgetRuns(this.sql, ids));
    return ids.length;
  }

  /** Empties up to PURGE_BATCH removed runs' objects; one still running (not expected) is dropped from the list. */
  private async purgeSome(): Promise<{ purged: number; left: boolean }> {
    const ids = this.sql
      .exec<{ run_id: string }>('SELECT run_id FROM purge LIMIT ?', PURGE_BATCH)
      .toArray()
      .map((r) => r.run_id);
    const done: string[] = [];
    await inParallel(ids, PURGE_CONCURRENCY, async (id) => {
      try {
        if (!(await runStub(this.env, id).purge()))
          console.warn(JSON.stringify({ level: 'warn', runId: id, message: 'not purged: the run is still going' }));
        done.push(id);
      } catch (e) {
        // Left listed: the next round tries again.
        console.error(JSON.stringify({ level: 'error', runId: id, message: 'purge failed', error: String(e) }));
      }
    });
    if (done.length)
      this.sql.exec('DELETE FROM purge WHERE run_id IN (SELECT value FROM json_each(?))', JSON.stringify(done));
    const left = this.sql.exec('SELECT 1 FROM purge LIMIT 1').toArray().length > 0;
    return { purged: done.length, left };
  }
}

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}
