/**
 * Retention: the tenant setting (who may read and change it, bad input, isolation) and
 * the minute cron pruning a tenant's expired runs in bounded batches while new runs keep
 * running, other tenants untouched and the Explorer still listing, filtering and paging.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { createDb } from '../src/db/client';
import { PRUNE_BUDGET, pruneExpiredRuns } from '../src/run/retention';
import { MAX_RECORDED_BYTES } from '../src/run/limits';
import { DAY_MS, DEFAULT_RUN_RETENTION_DAYS } from '../src/tenants/settings';
import { addMember, call, waitForRun } from './helpers/api';
import { apiFlow } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

const flow = apiFlow('keep_me', [{ id: 'shape', type: 'transform', output: { n: '{{ trigger.body.n }}' } }]);

async function minuteCron(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const count = async (sql: string, ...params: unknown[]) =>
  (
    (await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()) ?? { n: -1 }
  ).n;

/**
 * `n` finished runs of the tenant's workflow created `ageDays` ago, each with two step
 * rows, a webhook dedup row and two engine attempt audit rows: what a real run leaves.
 * One recursive statement per table, so thousands of rows plant in milliseconds.
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

describe('pruning by the minute cron', () => {
  it('removes expired runs in bounded batches while new runs continue; other tenants and governance stay', async () => {
    const tenantA = a.owner.tenant.id;
    const tenantB = b.owner.tenant.id;
    const planted = PRUNE_BUDGET * 2 + 500;
    await plantOldRuns(tenantA, 'run_olda_', planted, DEFAULT_RUN_RETENTION_DAYS + 6);
    // B keeps runs 30 days: its 20-day-old runs are not expired.
    await call('PATCH', '/api/settings', { session: b.owner, body: { runRetentionDays: 30 } });
    await plantOldRuns(tenantB, 'run_oldb_', 300, DEFAULT_RUN_RETENTION_DAYS + 6);
    // A governance entry about an old run (a user retried it) survives the run.
    await env.DB.prepare(
      "INSERT INTO audit_log (id, tenant_id, at, actor_type, actor_id, action, target_type, target_id, run_id) VALUES ('aud_gov', ?, ?, 'user', 'u1', 'run.retry', 'run', 'run_olda_1', 'run_olda_1')",
    )
      .bind(tenantA, Date.now() - 20 * DAY_MS)
      .run();
    const fresh = await startRun(a, 'keep_me', { n: 1 });
    await waitForRun(fresh, { token: a.token });

    const oldA = () => count("SELECT COUNT(*) AS n FROM runs WHERE tenant_id = ? AND id LIKE 'run_olda_%'", tenantA);
    expect(await oldA()).toBe(planted);
    const remaining: number[] = [];
    const during: string[] = [];
    for (let tick = 0; tick < 3; tick++) {
      await minuteCron(Date.now());
      remaining.push(await oldA());
      // Runs keep starting and finishing between ticks.
      const id = await startRun(a, 'keep_me', { n: tick });
      expect((await waitForRun(id, { token: a.token })).status).toBe('succeeded');
      during.push(id);
    }
    // At most PRUNE_BUDGET runs a tick, oldest first.
    expect(remaining).toEqual([planted - PRUNE_BUDGET, planted - 2 * PRUNE_BUDGET, 0]);

    const like = 'run_olda_%';
    expect(await count('SELECT COUNT(*) AS n FROM run_steps WHERE run_id LIKE ?', like)).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM webhook_events WHERE run_id LIKE ?', like)).toBe(0);
    expect(
      await count("SELECT COUNT(*) AS n FROM audit_log WHERE run_id LIKE ? AND action = 'step.attempt'", like),
    ).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE id = 'aud_gov'")).toBe(1);
    // The other tenant: all there.
    const likeB = 'run_oldb_%';
    expect(await count('SELECT COUNT(*) AS n FROM runs WHERE id LIKE ?', likeB)).toBe(300);
    expect(await count('SELECT COUNT(*) AS n FROM run_steps WHERE run_id LIKE ?', likeB)).toBe(600);
    expect(await count('SELECT COUNT(*) AS n FROM webhook_events WHERE run_id LIKE ?', likeB)).toBe(300);
    expect(await count('SELECT COUNT(*) AS n FROM audit_log WHERE run_id LIKE ?', likeB)).toBe(600);

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
    expect(bRuns.json.runs.filter((r: { id: string }) => r.id.startsWith('run_oldb_')).length).toBe(200);
  });

  it('keeps unfinished runs and runs younger than the retention', async () => {
    const tenant = a.owner.tenant.id;
    await plantOldRuns(tenant, 'run_openold_', 3, DEFAULT_RUN_RETENTION_DAYS + 2, 'running');
    await plantOldRuns(tenant, 'run_young_', 3, DEFAULT_RUN_RETENTION_DAYS - 1);
    await plantOldRuns(tenant, 'run_due_', 3, DEFAULT_RUN_RETENTION_DAYS + 1);
    const r = await pruneExpiredRuns(createDb(env.DB), Date.now(), { budget: 2, chunk: 1 });
    expect(r).toMatchObject({ runs: 2, more: true });
    await pruneExpiredRuns(createDb(env.DB), Date.now());
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_due_%'")).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_young_%'")).toBe(3);
    expect(await count("SELECT COUNT(*) AS n FROM runs WHERE id LIKE 'run_openold_%'")).toBe(3);
  });
});

describe('what a run record keeps in D1', () => {
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
