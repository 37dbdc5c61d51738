/**
 * The bench's operation counters (AUTOMATE_METER, worker/src/meter/): the wrapped bindings
 * give the same answers as the real ones and count what D1 and the run objects were asked.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { tenants } from '../src/db/schema';
import type { Env } from '../src/env';
import { counters } from '../src/meter/counters';
import { meterEnv } from '../src/meter/metered-env';

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
});
