/**
 * The minute cron's import of runs recorded in D1 before the run index (legacy-rows.ts) into
 * each tenant's index, so that the Explorer lists them again (docs/execution.md, "Runs from
 * before the run index"). Per chunk of one tenant's runs, newest first:
 *
 * 1. read the runs, their steps and `step.attempt` rows from D1 (tenant_id on every read);
 * 2. write them to that tenant's index in one transaction (a run already there is left as
 *    it is: the index's data wins, so repeating a chunk adds nothing);
 * 3. only then delete the chunk's D1 rows, in one batch.
 *
 * A crash between 2 and 3 leaves the rows in D1 and the next tick repeats the chunk; a crash
 * before 2 commits writes nothing. No run is lost and none is listed twice. The rows are
 * deleted rather than left for retention because the one D1 database is what the index was
 * made to relieve: the deletes are the ones retention would have made anyway, only sooner,
 * the run's detail then needs no D1 read, and what is left in D1 is exactly what is still to
 * import (no cursor or marker to keep). Work per tick is bounded like retention's.
 */
import { createDb } from '../db/client';
import { chunkBySize } from '../lib/chunk-by-size';
import type { Env } from '../env';
import type { LegacyRun } from '../run-index/index-types';
import { runIndex } from '../run-index/run-index-stub';
import { runStubOrNull } from '../triggers/start-run';
import { deleteLegacyRuns, readLegacyRuns } from './legacy-rows';
import { capValue, fitsBytes, MAX_RECORDED_BYTES } from './limits';
import type { RunView } from './run-coordinator';
import { inFlightOf, summaryOf } from './run-records';

/** Runs per chunk: one read of each D1 table, one index transaction, one D1 batch of deletes. */
export const IMPORT_CHUNK = 50;
/** Runs taken from D1 per cron tick, across all tenants: 720,000 a day at most. */
export const IMPORT_BUDGET = 500;
/** Stop starting new chunks after this long, whatever is left of the budget. */
const IMPORT_TIME_MS = 10_000;
/**
 * Largest request to an index (a Durable Object RPC carries up to 32 MiB): a chunk of runs
 * with large trigger events goes in several. A run's steps are capped below, its event is at
 * most the 1 MiB body limit, so one run alone always fits.
 */
const REQUEST_BYTES = 8 * 1024 * 1024;
/** Unfinished runs' objects asked at once (see settle). */
const SNAPSHOT_CONCURRENCY = 10;

/** The error an unfinished legacy run is imported with when its object cannot carry on. */
export const STATELESS_RUN_ERROR =
  'Recorded before the run index, and its run object holds no state to carry on from: the run cannot finish.';

export interface ImportResult {
  /** Runs taken from D1 (new to their index or already there). */
  runs: number;
  /** Of those, runs their index did not have. */
  added: number;
  tenants: number;
  /** True when some tenant still had legacy runs when the budget or time ran out. */
  more: boolean;
}

/**
 * One cron tick of the import. Tenants take turns (the starting tenant rotates with the
 * minute), and a tenant whose chunk fails is logged and skipped until the next tick, so one
 * tenant's bad row cannot stop the others.
 */
export async function importLegacyRuns(
  env: Env,
  now: number,
  { budget = IMPORT_BUDGET, chunk = IMPORT_CHUNK, timeMs = IMPORT_TIME_MS } = {},
): Promise<ImportResult> {
  const result: ImportResult = { runs: 0, added: 0, tenants: 0, more: false };
  // Once D1 holds no legacy run, this one read is all a tick costs.
  if (!(await env.DB.prepare('SELECT 1 FROM runs LIMIT 1').first())) return result;
  const { results: all } = await env.DB.prepare('SELECT id FROM tenants ORDER BY id').all<{ id: string }>();
  if (!all.length) return result;
  const start = Math.floor(now / 60_000) % all.length;
  const order = [...all.slice(start), ...all.slice(0, start)];
  const deadline = Date.now() + timeMs;
  let left = budget;
  let stopped = false;
  for (const { id: tenantId } of order) {
    let touched = false;
    try {
      for (;;) {
        if (left <= 0 || Date.now() > deadline) {
          stopped = true;
          break;
        }
        const take = Math.min(chunk, left);
        const runs = await readLegacyRuns(env.DB, tenantId, take);
        if (!runs.length) break;
        result.added += await indexChunk(env, tenantId, runs);
        // Only after the index has them: until then the D1 rows are the runs' only record.
        await deleteLegacyRuns(
          createDb(env.DB),
          tenantId,
          runs.map((r) => ({ id: r.run.id, workflowId: r.run.workflowId, createdAt: r.run.createdAt })),
        );
        result.runs += runs.length;
        left -= runs.length;
        touched = true;
        if (runs.length < take) break;
      }
    } catch (e) {
      console.error(
        JSON.stringify({
          level: 'error',
          tenantId,
          message: 'legacy run import failed; retried next tick',
          error: String(e),
        }),
      );
      result.more = true;
    }
    if (touched) result.tenants++;
    if (stopped) break;
  }
  result.more ||= stopped;
  return result;
}

/**
 * Step 2 for one chunk read from D1; returns how many runs the index did not have. A
 * workflow deleted meanwhile forgot its runs in the index before this chunk reached it
 * (workflow-lifecycle.ts): its runs just written are forgotten again here, and the delete
 * forgets once more after its D1 batch, so whichever of the two comes last cleans up.
 */
export async function indexChunk(env: Env, tenantId: string, runs: LegacyRun[]): Promise<number> {
  const index = runIndex(env, tenantId);
  let added = 0;
  for (const part of chunkBySize(await settleAll(env, tenantId, runs), sizeOf, REQUEST_BYTES))
    added += await index.importLegacy(tenantId, part);
  for (const workflow of await deletedWorkflows(env.DB, tenantId, runs)) await index.forgetWorkflow(workflow);
  return added;
}

/** The chunk's workflows that D1 no longer has. */
async function deletedWorkflows(d1: D1Database, tenantId: string, runs: LegacyRun[]) {
  const refs = new Map(runs.map((r) => [r.run.workflowId, r.run.workflowKey]));
  const { results } = await d1
    .prepare('SELECT id FROM workflows WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))')
    .bind(tenantId, JSON.stringify([...refs.keys()]))
    .all<{ id: string }>();
  for (const { id } of results) refs.delete(id);
  return [...refs].map(([id, key]) => ({ id, key }));
}

/** Each run ready for its index: steps' data capped as the Explorer shows it, unfinished runs settled. */
async function settleAll(env: Env, tenantId: string, runs: LegacyRun[]): Promise<LegacyRun[]> {
  const out: LegacyRun[] = new Array(runs.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(SNAPSHOT_CONCURRENCY, runs.length) }, async () => {
    while (next < runs.length) {
      const i = next++;
      out[i] = capSteps(await settle(env, tenantId, runs[i]));
    }
  });
  await Promise.all(lanes);
  return out;
}

/**
 * A finished run is taken as D1 recorded it. For one D1 still calls queued or running, its
 * object is the truth: with state, its summary comes from there (and the index's sweep
 * nudges it like any run that stopped flushing); without (never started: before 9afc50b the
 * D1 row was written before the object started; or a state it cannot load), nothing will
 * ever finish it, so it is imported failed, saying why, rather than listed as running for
 * ever (a run in flight would also block deleting its workflow).
 */
async function settle(env: Env, tenantId: string, legacy: LegacyRun): Promise<LegacyRun> {
  const r = legacy.run;
  if (r.status !== 'queued' && r.status !== 'running') return legacy;
  const view = await snapshotOf(env, r.id);
  if (view && view.state.tenant.id === tenantId) {
    const s = summaryOf(view.state);
    return {
      ...legacy,
      run: {
        ...r,
        status: s.status,
        error: s.error ? JSON.stringify(s.error) : null,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        inFlight: inFlightOf(view.state),
      },
    };
  }
  console.warn(
    JSON.stringify({ level: 'warn', tenantId, runId: r.id, message: 'legacy run has no state: imported failed' }),
  );
  return {
    ...legacy,
    run: {
      ...r,
      status: 'failed',
      error: JSON.stringify({ message: STATELESS_RUN_ERROR }),
      finishedAt: r.finishedAt ?? r.updatedAt,
      inFlight: false,
    },
  };
}

/** The run object's state, or null when it has none or cannot load it. */
async function snapshotOf(env: Env, runId: string): Promise<RunView | null> {
  const stub = runStubOrNull(env, runId);
  if (!stub) return null;
  try {
    return (await stub.snapshot()) as RunView | null;
  } catch (e) {
    console.warn(JSON.stringify({ level: 'warn', runId, message: 'legacy run object unreadable', error: String(e) }));
    return null;
  }
}

/**
 * Step inputs and outputs as the Explorer shows them (MAX_RECORDED_BYTES; D1 kept up to 64 KB
 * before that limit was lowered), so the index holds no more than a run object's detail shows.
 */
function capSteps(run: LegacyRun): LegacyRun {
  return { ...run, steps: run.steps.map((s) => ({ ...s, input: capJson(s.input), output: capJson(s.output) })) };
}

function capJson(text: string | null): string | null {
  if (text === null || fitsBytes(text, MAX_RECORDED_BYTES)) return text;
  return JSON.stringify(capValue(JSON.parse(text), MAX_RECORDED_BYTES));
}

/** Roughly what a run weighs on the wire: its text fields (the rest is a few hundred bytes). */
function sizeOf(run: LegacyRun): number {
  let n = 512 + (run.trigger?.length ?? 0) + (run.run.error?.length ?? 0);
  for (const s of run.steps)
    n += 256 + (s.input?.length ?? 0) + (s.output?.length ?? 0) + (s.error?.length ?? 0) + (s.attemptLog?.length ?? 0);
  for (const a of run.audit) n += 128 + (a.context?.length ?? 0);
  return n;
}
