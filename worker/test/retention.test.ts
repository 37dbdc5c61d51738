/**
 * Retention: the tenant setting (who may read and change it, bad input, isolation) and
 * the tenant's run index pruning expired runs in bounded batches on its alarm, purging
 * their run objects, while new runs keep running, other tenants untouched and the
 * Explorer still listing, filtering and paging. Also the D1 pruner of legacy run rows.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { PRUNE_BUDGET, pruneExpiredRuns } from '../src/run/retention';
import { MAX_RECORDED_BYTES } from '../src/run/limits';
import { PRUNE_BATCH, PURGE_BATCH, type RunIndex } from '../src/run-index/run-index';
import { runIndex } from '../src/run-index/run-index-stub';
import { DAY_MS, DEFAULT_RUN_RETENTION_DAYS } from '../src/tenants/settings';
import { addMember, call, waitForRun } from './helpers/api';
import { apiFlow, runObject } from './helpers/engine';
import { indexCount } from './helpers/run-index';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

const flow = apiFlow('keep_me', [{ id: 'shape', type: 'transform', output: { n: '{{ trigger.body.n }}' } }]);

const count = async (sql: string, ...params: unknown[]) =>
  (
    (await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()) ?? { n: -1 }
  ).n;

/**
 * `n` finished runs in the tenant's run index created `ageDays` ago, each with two step
 * rows and two engine audit entries: what a real run leaves there. One recursive
 * statement per table, so thousands of rows plant in milliseconds.
 */
async function plantIndexRuns(tenantId: string, prefix: string, n: number, ageDays: number, status = 'succeeded') {
  const base = Date.now() - ageDays * DAY_MS;
  const seq = 'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)';
  await runInDurableObject(runIndex(env, tenantId), (_i: RunIndex, state) => {
    const sql = state.storage.sql;
    sql.exec(
      `${seq} INSERT INTO runs (id, workflow_id, workflow_key, version, status, trigger_type, created_at, started_at, finished_at, updated_at)
       SELECT ? || i, 'wf_planted', 'keep_me', 1, ?, 'webhook', ? + i, ? + i, ? + i + 5, ? + i FROM s`,
      n,
      prefix,
      status,
      base,
      base,
      base,
      base,
    );
    sql.exec(
      `${seq} INSERT INTO steps (run_id, step_id, type, status, attempts, seq, started_at, finished_at)
       SELECT ? || i, 'a', 'transform', 'succeeded', 1, 0, ? + i, ? + i + 1 FROM s
       UNION ALL SELECT ? || i, 'b', 'transform', 'succeeded', 1, 1, ? + i, ? + i + 2 FROM s`,
      n,
      prefix,
      base,
      base,
      prefix,
      base,
      base,
    );
    sql.exec(
      `${seq} INSERT INTO audit (id, at, action, run_id, workflow_key, context)
       SELECT 'aud_' || ? || i || '_' || k, ? + i, 'step.attempt', ? || i, 'keep_me', '{}'
       FROM s, (SELECT 1 AS k UNION ALL SELECT 2)`,
      n,
      prefix,
      base,
      prefix,
    );
  });
}

/** Makes a real (finished) run look `ageDays` old in its tenant's index. */
const age = (tenantId: string, runId: string, ageDays: number) =>
  runInDurableObject(runIndex(env, tenantId), (_i: RunIndex, state) => {
    state.storage.sql.exec('UPDATE runs SET created_at = created_at - ? WHERE id = ?', ageDays * DAY_MS, runId);
  });

/**
 * Planted runs have no objects, and purging an object that never existed costs the same
 * as a real one (~20 ms each in the test runtime): they leave the purge list, the real
 * runs' purges stay.
 */
const skipPlantedPurges = (tenantId: string) =>
  runInDurableObject(runIndex(env, tenantId), (_i: RunIndex, state) => {
    state.storage.sql.exec("DELETE FROM purge WHERE run_id LIKE 'run_old%'");
  });

/** One round of the index's upkeep, as its alarm runs it. */
const upkeep = (tenantId: string) => runIndex(env, tenantId).upkeep(Date.now());

/**
 * `n` finished runs of the tenant's workflow created `ageDays` ago in the LEGACY D1 tables
 * (before the run index, and the acknowledgement rows start-run.ts still writes): what
 * such a run left. One recursive statement per table.
 */
async function plantOldRuns(tenantId: string, prefix: string, n: number, ageDays: number, status = 'succeeded') {
  const wf = await env.DB.prepare("SELECT id FROM workflows WHERE tenant_id = ? AND key = 'keep_me'")
    .bind(tenantId)
    .first<{ id: string }>();
  const base = Date.now() - ageDays * DAY_MS;
  const seq = 'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)';
  await env.DB.batch([
    env.DB.prepare(
      `${seq} INSERT INTO runs (id, tenant_id, workflow_id, workflow_key, version, status, trigger_type, trigger_ref, trigger, created_at, finished_at, updated_at)
       SELECT ? || i, ?, ?, 'keep_me', 1, ?, 'webhook', ? || i, '{"body":{"big":"${'x'.repeat(200)}"}}', ? + i, ? + i + 5, ? + i FROM s`,
    ).bind(n, prefix, tenantId, wf!.id, status, `dlv_${prefix}`, base, base, base),
    env.DB.prepare(
      `${seq} INSERT INTO run_steps (tenant_id, run_id, step_id, type, status, attempts, seq, output)
       SELECT ?, ? || i, 'a', 'transform', 'succeeded', 1, 0, '{"x":1}' FROM s
       UNION ALL SELECT ?, ? || i, 'b', 'transform', 'succeeded', 1, 1, '{"y":2}' FROM s`,
    ).bind(n, tenantId, prefix, tenantId, prefix),
    env.DB.prepare(
      `${seq} INSERT INTO webhook_events (id, tenant_id, workflow_id, delivery_id, run_id, received_at)
       SELECT 'evt_' || ? || i, ?, ?, ? || i, ? || i, ? + i FROM s`,
    ).bind(n, prefix, tenantId, wf!.id, `dlv_${prefix}`, prefix, base),
    env.DB.prepare(
      `${seq} INSERT INTO audit_log (id, tenant_id, at, actor_type, action, target_type, target_id, run_id)
       SELECT 'aud_' || ? || i || '_' || k, ?, ? + i, 'system', 'step.attempt', 'workflow', 'keep_me', ? || i
       FROM s, (SELECT 1 AS k UNION ALL SELECT 2)`,
    ).bind(n, prefix, tenantId, base, prefix),
  ]);
}

let a: Workspace;
let b: Workspace;

beforeAll(async () => {
  a = await workspace();
  b = await workspace();
  await publish(a, flow);
  await publish(b, flow);
});

describe('tenant retention setting', () => {
  it('defaults, is changed by owners and admins only, audited, and stays in its tenant', async () => {
    const before = await call('GET', '/api/settings', { session: a.owner });
    expect(before.status).toBe(200);
    expect(before.json).toEqual({
      runRetentionDays: null,
      effectiveRunRetentionDays: DEFAULT_RUN_RETENTION_DAYS,
      mfaRequired: false,
    });

    const admin = await addMember(a.owner, 'admin');
    const viewer = await addMember(a.owner, 'viewer');
    const changed = await call('PATCH', '/api/settings', { session: admin, body: { runRetentionDays: 30 } });
    expect(changed.status).toBe(200);
    expect(changed.json).toEqual({ runRetentionDays: 30, effectiveRunRetentionDays: 30, mfaRequired: false });
    // Viewers and (full-scope) tokens read it; neither may change it.
    expect((await call('GET', '/api/settings', { session: viewer })).json.effectiveRunRetentionDays).toBe(30);
    expect((await call('GET', '/api/settings', { token: a.token })).json.effectiveRunRetentionDays).toBe(30);
    const denied = await call('PATCH', '/api/settings', { session: viewer, body: { runRetentionDays: 1 } });
    expect(denied.status).toBe(403);
    expect((await call('PATCH', '/api/settings', { token: a.token, body: { runRetentionDays: 1 } })).status).toBe(403);
    // Another tenant neither sees nor is changed by it.
    expect((await call('GET', '/api/settings', { session: b.owner })).json.runRetentionDays).toBeNull();
    const audit = await call('GET', '/api/audit?action=tenant.settings.update', { session: a.owner });
    expect(audit.json.entries).toHaveLength(1);
    expect(audit.json.entries[0].context).toEqual({ runRetentionDays: { from: null, to: 30 } });
    const otherAudit = await call('GET', '/api/audit?action=tenant.settings.update', { session: b.owner });
    expect(otherAudit.json.entries).toHaveLength(0);

    // Back to the default.
    const reset = await call('PATCH', '/api/settings', { session: a.owner, body: { runRetentionDays: null } });
    expect(reset.json).toEqual({
      runRetentionDays: null,
      effectiveRunRetentionDays: DEFAULT_RUN_RETENTION_DAYS,
      mfaRequired: false,
    });
  });

  it('refuses bad values with the field named', async () => {
    for (const body of [
      { runRetentionDays: 0 },
      { runRetentionDays: 91 },
      { runRetentionDays: 1.5 },
      { runRetentionDays: '7' },
    ]) {
      const res = await call('PATCH', '/api/settings', { session: a.owner, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain('runRetentionDays');
    }
    const extra = await call('PATCH', '/api/settings', { session: a.owner, body: { retention: 7 } });
    expect(extra.status).toBe(400);
    const noAuth = await call('GET', '/api/settings');
    expect(noAuth.status).toBe(401);
  });
});

describe('pruning by the run index', () => {
  it('removes expired runs in bounded batches while new runs continue; other tenants and governance stay', async () => {
    const tenantA = a.owner.tenant.id;
    const tenantB = b.owner.tenant.id;
    // Real runs first: each tenant's index learns its tenant from its first run.
    const fresh = await startRun(a, 'keep_me', { n: 1 });
    await waitForRun(fresh, { token: a.token });
    const bReal = await startRun(b, 'keep_me', { n: 1 });
    await waitForRun(bReal, { token: b.token });
    // A real finished run of A, made older than the retention: its object must be purged too.
    const expiredReal = await startRun(a, 'keep_me', { n: 2 });
    await waitForRun(expiredReal, { token: a.token });
    await age(tenantA, expiredReal, DEFAULT_RUN_RETENTION_DAYS + 6);

    const planted = PRUNE_BATCH * 2 + 100;
    await plantIndexRuns(tenantA, 'run_olda_', planted, DEFAULT_RUN_RETENTION_DAYS + 6);
    // B keeps runs 30 days: its 20-day-old runs are not expired.
    await call('PATCH', '/api/settings', { session: b.owner, body: { runRetentionDays: 30 } });
    await plantIndexRuns(tenantB, 'run_oldb_', 300, DEFAULT_RUN_RETENTION_DAYS + 6);
    // A governance entry about an old run (a user retried it) survives the run.
    await env.DB.prepare(
      "INSERT INTO audit_log (id, tenant_id, at, actor_type, actor_id, action, target_type, target_id, run_id) VALUES ('aud_gov', ?, ?, 'user', 'u1', 'run.retry', 'run', 'run_olda_1', 'run_olda_1')",
    )
      .bind(tenantA, Date.now() - 20 * DAY_MS)
      .run();

    const oldA = () => indexCount(tenantA, "SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_olda_%'");
    expect(await oldA()).toBe(planted);
    const remaining: number[] = [];
    const during: string[] = [];
    for (let tick = 0; tick < 4; tick++) {
      const r = await upkeep(tenantA);
      await skipPlantedPurges(tenantA);
      // Bounded: one round removes at most PRUNE_BATCH runs and purges at most PURGE_BATCH objects.
      expect(r.pruned).toBeLessThanOrEqual(PRUNE_BATCH);
      expect(r.purged).toBeLessThanOrEqual(PURGE_BATCH);
      if (tick === 0) expect(r.pruned).toBe(PRUNE_BATCH);
      remaining.push(await oldA());
      // Runs keep starting and finishing between rounds.
      const id = await startRun(a, 'keep_me', { n: tick });
      expect((await waitForRun(id, { token: a.token })).status).toBe('succeeded');
      during.push(id);
    }
    // Oldest first, a batch at a time (the alarm may also have run a round meanwhile), down to none.
    expect(remaining[0]).toBeGreaterThanOrEqual(planted - PRUNE_BATCH - 1 - PRUNE_BATCH);
    expect(remaining[0]).toBeLessThan(planted);
    for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThanOrEqual(remaining[i - 1]);
    expect(remaining.at(-1)).toBe(0);
    // The pruned runs' steps and engine audit entries went with them; governance stays in D1.
    const like = 'run_olda_%';
    expect(await indexCount(tenantA, 'SELECT COUNT(*) AS n FROM steps WHERE run_id LIKE ?', like)).toBe(0);
    expect(await indexCount(tenantA, 'SELECT COUNT(*) AS n FROM audit WHERE run_id LIKE ?', like)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE id = 'aud_gov'")).toBe(1);
    // The expired real run: gone from the Explorer, its object emptied once the purge list drained.
    for (let i = 0; i < 10 && (await indexCount(tenantA, 'SELECT COUNT(*) AS n FROM purge')) > 0; i++)
      await upkeep(tenantA);
    expect(await indexCount(tenantA, 'SELECT COUNT(*) AS n FROM purge')).toBe(0);
    expect((await call('GET', `/api/runs/${expiredReal}`, { token: a.token })).status).toBe(404);
    expect(
      await runInDurableObject(runObject(expiredReal), async (_i, state) => (await state.storage.list()).size),
    ).toBe(0);
    // The other tenant: all there.
    const likeB = 'run_oldb_%';
    expect(await indexCount(tenantB, 'SELECT COUNT(*) AS n FROM runs WHERE id LIKE ?', likeB)).toBe(300);
    expect(await upkeep(tenantB)).toMatchObject({ pruned: 0 });
    expect(await indexCount(tenantB, 'SELECT COUNT(*) AS n FROM steps WHERE run_id LIKE ?', likeB)).toBe(600);
    expect(await indexCount(tenantB, 'SELECT COUNT(*) AS n FROM audit WHERE run_id LIKE ?', likeB)).toBe(600);

    // The Explorer: A's recent runs, filtered and paged; the pruned ones are gone.
    const listed: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await call(
        'GET',
        `/api/runs?workflow=keep_me&status=succeeded&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: a.token },
      );
      expect(res.status).toBe(200);
      listed.push(...res.json.runs.map((r: { id: string }) => r.id));
      cursor = res.json.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(listed.sort()).toEqual([fresh, ...during].sort());
    const detail = await call('GET', `/api/runs/${during[0]}`, { token: a.token });
    expect(detail.json.steps.map((s: { id: string }) => s.id)).toEqual(['shape']);
    expect((await call('GET', '/api/runs/run_olda_1', { token: a.token })).status).toBe(404);
    // B's planted runs still list for B (and never for A).
    const bRuns = await call('GET', '/api/runs?workflow=keep_me&limit=200', { token: b.token });
    expect(bRuns.json.runs.filter((r: { id: string }) => r.id.startsWith('run_oldb_')).length).toBe(199);
    expect(bRuns.json.runs.map((r: { id: string }) => r.id)).not.toContain(fresh);

    // Lowering B's setting takes effect on its next round.
    await call('PATCH', '/api/settings', { session: b.owner, body: { runRetentionDays: 7 } });
    expect(await upkeep(tenantB)).toMatchObject({ pruned: 300 });
    await skipPlantedPurges(tenantB);
    expect(await indexCount(tenantB, 'SELECT COUNT(*) AS n FROM runs')).toBe(1);
  }, 60_000);

  it('keeps unfinished runs and runs younger than the retention; the alarm does the rounds', async () => {
    const tenant = a.owner.tenant.id;
    await plantIndexRuns(tenant, 'run_openold_', 3, DEFAULT_RUN_RETENTION_DAYS + 2, 'running');
    await plantIndexRuns(tenant, 'run_young_', 3, DEFAULT_RUN_RETENTION_DAYS - 1);
    await plantIndexRuns(tenant, 'run_due_', 3, DEFAULT_RUN_RETENTION_DAYS + 1);
    // The index keeps an alarm while it holds runs; running it is one round.
    expect(await runDurableObjectAlarm(runIndex(env, tenant))).toBe(true);
    expect(await indexCount(tenant, "SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_due_%'")).toBe(0);
    expect(await indexCount(tenant, "SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_young_%'")).toBe(3);
    expect(await indexCount(tenant, "SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_openold_%'")).toBe(3);
    // Runs still going keep the alarm within a minute (the sweeper's backstop).
    const alarm = await runInDurableObject(runIndex(env, tenant), (_i: RunIndex, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});

describe('legacy D1 run rows', () => {
  // The cron's retention phase (engine.schedules.test.ts runs it through the cron); the
  // cron's import phase, which would carry the kept ones into the index, is legacy-runs.test.ts.
  it('are pruned in bounded batches, unfinished and young ones kept', async () => {
    const tenant = a.owner.tenant.id;
    await plantOldRuns(tenant, 'run_legacy_', PRUNE_BUDGET + 10, DEFAULT_RUN_RETENTION_DAYS + 6);
    await plantOldRuns(tenant, 'run_openold_', 3, DEFAULT_RUN_RETENTION_DAYS + 2, 'running');
    await plantOldRuns(tenant, 'run_young_', 3, DEFAULT_RUN_RETENTION_DAYS - 1);
    await plantOldRuns(tenant, 'run_due_', 3, DEFAULT_RUN_RETENTION_DAYS + 1);
    const r = await pruneExpiredRuns(createDb(env.DB), Date.now(), { budget: 2, chunk: 1 });
    expect(r).toMatchObject({ runs: 2, more: true });
    expect(await pruneExpiredRuns(createDb(env.DB), Date.now())).toMatchObject({ runs: PRUNE_BUDGET, more: true });
    expect(await pruneExpiredRuns(createDb(env.DB), Date.now())).toMatchObject({ runs: 11, more: false });
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_legacy_%'")).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM run_steps WHERE run_id LIKE 'run_legacy_%'")).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM webhook_events WHERE run_id LIKE 'run_legacy_%'")).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_due_%'")).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_young_%'")).toBe(3);
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_openold_%'")).toBe(3);
  });
});

describe('what the Explorer shows of recorded data', () => {
  it('keeps step data up to MAX_RECORDED_BYTES whole and a preview with the size beyond', async () => {
    await publish(
      a,
      apiFlow('sizes', [
        { id: 'small', type: 'transform', output: { v: '{{ trigger.body.small }}' }, next: 'large' },
        { id: 'large', type: 'transform', output: { v: '{{ trigger.body.large }}' } },
      ]),
    );
    const small = 's'.repeat(MAX_RECORDED_BYTES - 100);
    const large = 'l'.repeat(MAX_RECORDED_BYTES + 100);
    const id = await startRun(a, 'sizes', { small, large });
    const run = await waitForRun(id, { token: a.token });
    expect(run.status).toBe('succeeded');
    const step = (sid: string) => run.steps.find((s: { id: string }) => s.id === sid);
    expect(step('small').output).toEqual({ v: small });
    expect(step('large').output).toMatchObject({ $truncated: true, bytes: MAX_RECORDED_BYTES + 108 });
    expect(step('large').output.preview.length).toBe(2048);
    expect(MAX_RECORDED_BYTES).toBe(16 * 1024);
  });
});
