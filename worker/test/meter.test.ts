/**
 * The bench's operation counters (AUTOMATE_METER, worker/src/meter/): the wrapped bindings
 * give the same answers as the real ones and count what D1 and the run objects were asked.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { tenants } from '../src/db/schema';
import type { Env } from '../src/env';
import { counters } from '../src/meter/counters';
import { meteredState } from '../src/meter/metered-durable-object';
import { meterEnv } from '../src/meter/metered-env';
import { writeBatch } from '../src/run-index/index-queries';
import type { IndexBatch } from '../src/run-index/index-types';
import type { RunIndex } from '../src/run-index/run-index';
import { runIndex } from '../src/run-index/run-index-stub';

const snapshot = () => JSON.parse(JSON.stringify(counters)) as typeof counters;

describe('metered bindings', () => {
  const metered = meterEnv(env as unknown as Env);

  it('counts D1 statements and rows from D1 own meta, and answers the same', async () => {
    await env.DB.prepare('CREATE TABLE IF NOT EXISTS meter_probe (id INTEGER PRIMARY KEY, v TEXT)').run();
    const before = snapshot();
    const inserted = await metered.DB.prepare("INSERT INTO meter_probe (v) VALUES ('a'), ('b'), ('c')").run();
    expect(inserted.meta.rows_written).toBe(3);
    // drizzle reads with all() or, for selected fields, raw(): rows come back as they do unmetered.
    const viaMeter = await createDb(metered.DB).all(sql`SELECT v FROM meter_probe ORDER BY id`);
    expect(viaMeter).toEqual(await createDb(env.DB).all(sql`SELECT v FROM meter_probe ORDER BY id`));
    const fields = { id: tenants.id, slug: tenants.slug };
    expect(await createDb(metered.DB).select(fields).from(tenants).all()).toEqual(
      await createDb(env.DB).select(fields).from(tenants).all(),
    );
    const [a, b] = await metered.DB.batch([
      metered.DB.prepare("UPDATE meter_probe SET v = 'z' WHERE v = ?").bind('a'),
      metered.DB.prepare('SELECT COUNT(*) AS n FROM meter_probe'),
    ]);
    expect(a.meta.rows_written).toBe(1);
    expect(b.results).toEqual([{ n: 3 }]);
    const d = snapshot();
    expect(d.d1.statements - before.d1.statements).toBe(5);
    expect(d.d1.rowsWritten - before.d1.rowsWritten).toBe(3 + 1);
    expect(d.d1.requests - before.d1.requests).toBe(4);
    expect(d.d1ByVerb['INSERT meter_probe']?.rowsWritten).toBeGreaterThanOrEqual(3);
    expect(d.d1.readsWithoutMeta - before.d1.readsWithoutMeta).toBe(1);
  });

  it('counts each call on a run object stub as one request, by method', async () => {
    const before = snapshot();
    const ns = metered.RUN_COORDINATOR;
    const stub = ns.get(ns.idFromName('run_meter_probe'));
    expect(await stub.snapshot()).toBeNull();
    expect(await stub.snapshot()).toBeNull();
    const d = snapshot();
    expect(d.durableObject.rpc - before.durableObject.rpc).toBe(2);
    expect((d.byMethod['do.snapshot'] ?? 0) - (before.byMethod['do.snapshot'] ?? 0)).toBe(2);
  });

  it("counts a SQLite-backed object's SQL rows from each cursor: table rows and index entries", async () => {
    const tenantId = 'tenant_meter_sql';
    const settled = () => new Promise((r) => setTimeout(r, 0));
    await runInDurableObject(runIndex(env as unknown as Env, tenantId), async (_i: RunIndex, state) => {
      const sql = meteredState(state).storage.sql;
      sql.exec('CREATE TABLE IF NOT EXISTS probe (id TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID');
      sql.exec('CREATE INDEX IF NOT EXISTS probe_v ON probe (v)');
      await settled();
      let before = snapshot();
      sql.exec("INSERT INTO probe (id, v) VALUES ('a', 'x'), ('b', 'y'), ('c', 'z')");
      // Answers what the real storage answers.
      expect(sql.exec('SELECT id FROM probe ORDER BY id').toArray()).toEqual(
        state.storage.sql.exec('SELECT id FROM probe ORDER BY id').toArray(),
      );
      await settled();
      let d = snapshot();
      expect(d.doSql.statements - before.doSql.statements).toBe(2);
      expect(d.doSql.rowsWritten - before.doSql.rowsWritten).toBe(6); // 3 rows, 3 index entries
      expect(d.doSql.rowsRead - before.doSql.rowsRead).toBeGreaterThanOrEqual(3);

      // One run's flushes as the bench workflow makes them under load: started (condition done,
      // call_a queued), call_a done (still running), then finished (call_b, the last attempts).
      const run = (status: 'running' | 'succeeded', finishedAt: number | null) => ({
        id: `run_${'f'.repeat(64)}`,
        tenantId,
        workflowId: 'wf_meter',
        workflowKey: 'meter_flow',
        version: 1,
        status,
        triggerType: 'webhook',
        triggerRef: 'msg_meter',
        error: null,
        retryOf: null,
        createdAt: 1_000,
        startedAt: 1_001,
        finishedAt,
        inFlight: status === 'running',
      });
      const step = (stepId: string, status: string, finishedAt: number | null) => ({
        stepId,
        type: 'http',
        status,
        attempts: 1,
        seq: 1,
        startedAt: 1_002,
        finishedAt,
      });
      const attempt = (n: number) => ({ action: 'step.attempt', at: 1_000 + n, context: { stepId: `s${n}` } });
      const flushes = [
        {
          run: run('running', null),
          steps: [step('check', 'succeeded', 1_002), step('call_a', 'queued', null)],
          audit: [],
        },
        { run: run('running', null), steps: [step('call_a', 'succeeded', 1_005)], audit: [attempt(1)] },
        { run: run('succeeded', 1_009), steps: [step('call_b', 'succeeded', 1_009)], audit: [attempt(2), attempt(3)] },
      ] as unknown as IndexBatch[];
      before = snapshot();
      for (const b of flushes) state.storage.transactionSync(() => writeBatch(sql, b, 2_000));
      await settled();
      d = snapshot();
      const rows = (verb: string) =>
        (d.doSqlByVerb[verb]?.rowsWritten ?? 0) - (before.doSqlByVerb[verb]?.rowsWritten ?? 0);
      // The run row: table + 3 Explorer indexes + the live index when inserted, row + status index
      // when it ends; a flush that leaves the status as it was rewrites the row alone.
      expect(rows('INSERT runs')).toBe(5 + 2);
      expect(rows('UPDATE runs')).toBe(1);
      // Finished steps only (call_a is written once, when it ends).
      expect(rows('INSERT steps')).toBe(3);
      // Each attempt entry: its row and its run's index entry; the action once per index.
      expect(rows('INSERT audit')).toBe(6);
      expect(rows('INSERT audit_actions')).toBe(1);
      expect(d.doSql.rowsWritten - before.doSql.rowsWritten).toBe(18);
    });
  });
});
