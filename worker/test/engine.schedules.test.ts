/**
 * Schedule triggers end to end: what publishes (and what is refused, with its path), the
 * fire-time preview, the indexed `workflow_schedules` table the minute cron reads, and
 * isolation: one tenant's broken rows cost no other tenant its schedules, and no phase of the cron the others.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { call, waitForRun } from './helpers/api';
import { apiFlow, listedRuns } from './helpers/engine';
import { indexCount } from './helpers/run-index';
import { publish, workspace, type Workspace } from './helpers/tenant';

const MINUTE = 60_000;

/** `{"a":{"a":...0}}`, `depth` levels: deeper than SQLite's JSON functions read (1,000). */
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;

const scheduleFlow = (key: string, trigger: Record<string, unknown>) => ({
  key,
  name: key,
  trigger: { type: 'schedule', ...trigger },
  steps: [{ id: 'tick', type: 'transform', output: { at: '{{ trigger.body.scheduledAt }}' } }],
});

/** The Worker's scheduled handler, as Cloudflare calls it at `scheduledTime`. */
async function minuteCron(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** A minute boundary `minutes` whole minutes from now: later than any slot computed at publish. */
const minuteFromNow = (minutes: number) => Math.ceil(Date.now() / MINUTE) * MINUTE + minutes * MINUTE;

/** The workflow's runs, once its first run's object has written it to the Explorer (or after a second). */
async function runsOf(ws: Workspace, key: string): Promise<any[]> {
  return listedRuns(`workflow=${key}`, 1, ws.token, 1_000);
}

async function scheduleRow(ws: Workspace, key: string) {
  return env.DB.prepare(
    'SELECT s.* FROM workflow_schedules s JOIN workflows w ON w.id = s.workflow_id WHERE w.key = ? AND w.tenant_id = ?',
  )
    .bind(key, ws.owner.tenant.id)
    .first<{ version: number; cron: string; timezone: string; next_fire_at: number | null }>();
}

let ws: Workspace;
beforeAll(async () => {
  ws = await workspace('Schedules Co');
});

describe('cron expressions at import and publish', () => {
  it.each([
    ['*/0 * * * *', /stepping: 0/],
    ['75 * * * *', /minute: 75/],
    ['0 25 * * *', /hour: 25/],
    ['5-1 * * * *', /larger than/],
    ['0 0 31 2 *', /never fires/],
    ['0 0 * * * *', /5 parts/],
  ])('refuses %s with its path', async (cron, why) => {
    const res = await call('POST', '/api/workflows/import?publish=true', {
      token: ws.token,
      body: scheduleFlow('never', { cron }),
    });
    expect(res.status).toBe(400);
    const issue = res.json.error.details.find((d: any) => d.path === 'trigger.cron');
    expect(issue.message).toMatch(why);
    expect((await call('GET', '/api/workflows/never', { token: ws.token })).status).toBe(404);
  });

  it('refuses at publish a draft saved before its expression was checked', async () => {
    await call('POST', '/api/workflows/import', {
      token: ws.token,
      body: scheduleFlow('old_draft', { cron: '@daily' }),
    });
    // As if saved by an older version that took "75 * * * *".
    await env.DB.prepare("UPDATE workflows SET draft = ? WHERE key = 'old_draft' AND tenant_id = ?")
      .bind(JSON.stringify(scheduleFlow('old_draft', { cron: '75 * * * *' })), ws.owner.tenant.id)
      .run();
    const res = await call('POST', '/api/workflows/old_draft/publish', { token: ws.token });
    expect(res.status).toBe(400);
    expect(res.json.error.details.map((d: any) => d.path)).toContain('trigger.cron');
    // The preview says why it has no times instead of failing the read.
    const detail = await call('GET', '/api/workflows/old_draft', { token: ws.token });
    expect(detail.status).toBe(200);
    expect(detail.json.schedule.draft).toMatchObject({ cron: '75 * * * *', next: [] });
    expect(detail.json.schedule.draft.error).toMatch(/minute: 75/);
  });

  it('refuses an unknown time zone with its path', async () => {
    const res = await call('POST', '/api/workflows/import', {
      token: ws.token,
      body: scheduleFlow('bad_zone', { cron: '0 9 * * MON', timezone: 'Europe/Berlinn' }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([{ path: 'trigger.timezone', message: expect.stringMatching(/IANA/) }]);
  });

  it.each(['0 9 * * MON', '@hourly', '@daily', '0 0 1 JAN *'])('accepts %s', async (cron) => {
    const key = `ok_${cron.replace(/\W+/g, '_')}`.toLowerCase();
    const res = await call('POST', '/api/workflows/import?publish=true', {
      token: ws.token,
      body: scheduleFlow(key, { cron }),
    });
    expect(res.status).toBe(201);
  });

  it('shows the next 3 fire times of the active version and the draft, in UTC and in the zone', async () => {
    await publish(ws, scheduleFlow('berlin', { cron: '0 9 * * MON', timezone: 'Europe/Berlin' }));
    await call('PUT', '/api/workflows/berlin', { token: ws.token, body: scheduleFlow('berlin', { cron: '@hourly' }) });
    const detail = await call('GET', '/api/workflows/berlin', { token: ws.token });
    const active = detail.json.schedule.active;
    expect(active.cron).toBe('0 9 * * MON');
    expect(active.timezone).toBe('Europe/Berlin');
    expect(active.next).toHaveLength(3);
    for (const { at, local } of active.next) {
      expect(new Date(at).toISOString()).toBe(at);
      expect(local).toMatch(/T09:00:00\+0[12]:00$/);
      // 9:00 in Berlin is 8:00 or 7:00 UTC on a Monday.
      expect(new Date(at).getUTCDay()).toBe(1);
      expect([7, 8]).toContain(new Date(at).getUTCHours());
    }
    expect(Date.parse(active.next[1].at) - Date.parse(active.next[0].at)).toBeGreaterThanOrEqual(
      7 * 86_400_000 - 3_600_000,
    );
    const draft = detail.json.schedule.draft;
    expect(draft).toMatchObject({ cron: '@hourly', timezone: 'UTC' });
    expect(draft.next.map((n: any) => Date.parse(n.at) % 3_600_000)).toEqual([0, 0, 0]);
    // A workflow that is not a schedule has no preview.
    await publish(ws, apiFlow('not_scheduled', [{ id: 'x', type: 'transform', output: {} }]));
    expect((await call('GET', '/api/workflows/not_scheduled', { token: ws.token })).json.schedule).toEqual({
      active: null,
      draft: null,
    });
  });

  it('shows the draft schedule in the dry run', async () => {
    const dry = await call('POST', '/api/workflows/berlin/test', { token: ws.token, body: {} });
    expect(dry.status).toBe(200);
    expect(dry.json.schedule).toMatchObject({ cron: '@hourly', timezone: 'UTC' });
    expect(dry.json.schedule.next).toHaveLength(3);
    expect(dry.json.path).toEqual(['tick']);
  });

  it('describes both in the OpenAPI document', async () => {
    const doc = (await call('GET', '/api/openapi.json')).json;
    expect(doc.components.schemas.SchedulePreview.properties).toHaveProperty('next');
    expect(doc.components.schemas.WorkflowDetail.properties).toHaveProperty('schedule');
    expect(doc.components.schemas.DryRunResult.properties).toHaveProperty('schedule');
  });
});

describe('the schedule index', () => {
  it('is written at publish and roll back, and deleted when the active version stops being a schedule', async () => {
    await publish(ws, apiFlow('flip', [{ id: 'tick', type: 'transform', output: {} }]));
    expect(await scheduleRow(ws, 'flip')).toBeNull();
    await publish(ws, scheduleFlow('flip', { cron: '* * * * *', timezone: 'Europe/Berlin' }));
    const row = await scheduleRow(ws, 'flip');
    expect(row).toMatchObject({ version: 2, cron: '* * * * *', timezone: 'Europe/Berlin' });
    expect(row!.next_fire_at).toBeGreaterThan(Date.now() - MINUTE);

    // Roll back to the API version: the schedule is gone, so the cron starts nothing.
    expect((await call('POST', '/api/workflows/flip/versions/1/activate', { token: ws.token })).status).toBe(200);
    expect(await scheduleRow(ws, 'flip')).toBeNull();
    await minuteCron(minuteFromNow(2));
    expect(await runsOf(ws, 'flip')).toHaveLength(0);

    // Forward again: it fires.
    await call('POST', '/api/workflows/flip/versions/2/activate', { token: ws.token });
    expect((await scheduleRow(ws, 'flip'))!.version).toBe(2);
    const at = minuteFromNow(3);
    await minuteCron(at);
    const runs = await runsOf(ws, 'flip');
    expect(runs).toHaveLength(1);
    expect(runs[0].version).toBe(2);
    expect((await scheduleRow(ws, 'flip'))!.next_fire_at).toBe(at + MINUTE);
  });

  it('fires once, for the latest slot, after minutes the cron did not run', async () => {
    await publish(ws, scheduleFlow('catch_up', { cron: '*/5 * * * *' }));
    const first = (await scheduleRow(ws, 'catch_up'))!.next_fire_at!;
    // The cron was down for the first slot and the next two; it comes back 30 s after the third.
    const back = first + 3 * 5 * MINUTE + 30_000;
    await minuteCron(back);
    await minuteCron(back + MINUTE);
    const runs = await runsOf(ws, 'catch_up');
    expect(runs).toHaveLength(1);
    const run = await waitForRun(runs[0].id, { token: ws.token });
    expect(run.steps[0].output).toEqual({ at: new Date(first + 15 * MINUTE).toISOString() });
    expect((await scheduleRow(ws, 'catch_up'))!.next_fire_at).toBe(first + 20 * MINUTE);
  });

  it('does not parse definitions to find due work: a definition that looks like a schedule but has no row never fires', async () => {
    await publish(ws, apiFlow('lookalike', [{ id: 'tick', type: 'transform', output: {} }]));
    await env.DB.prepare(
      "UPDATE workflow_versions SET definition = ? WHERE tenant_id = ? AND workflow_id = (SELECT id FROM workflows WHERE key = 'lookalike' AND tenant_id = ?)",
    )
      .bind(JSON.stringify(scheduleFlow('lookalike', { cron: '* * * * *' })), ws.owner.tenant.id, ws.owner.tenant.id)
      .run();
    await minuteCron(minuteFromNow(4));
    expect(await runsOf(ws, 'lookalike')).toHaveLength(0);
  });

  it("is backfilled by the migration from active versions' definitions, skipping rows that are not valid JSON", async () => {
    const other = await workspace('Backfill Co');
    await publish(other, scheduleFlow('legacy', { cron: '*/10 * * * *' }));
    await publish(other, scheduleFlow('legacy_broken', { cron: '* * * * *' }));
    const tenantId = other.owner.tenant.id;
    // As before this migration: no index rows (for any tenant), and one definition SQLite cannot read.
    await env.DB.prepare('DELETE FROM workflow_schedules').run();
    await env.DB.prepare(
      "UPDATE workflow_versions SET definition = ? WHERE tenant_id = ? AND workflow_id = (SELECT id FROM workflows WHERE key = 'legacy_broken' AND tenant_id = ?)",
    )
      .bind(
        `{"key":"legacy_broken","trigger":{"type":"schedule","cron":"* * * * *"},"ui":${deepObject(1500)}}`,
        tenantId,
        tenantId,
      )
      .run();
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0004_'))!;
    const backfill = migration.queries.find((q) => q.includes('INSERT INTO `workflow_schedules`'))!;
    await env.DB.prepare(backfill).run();

    const legacy = await scheduleRow(other, 'legacy');
    expect(legacy).toMatchObject({ cron: '*/10 * * * *', timezone: 'UTC', next_fire_at: 0 });
    expect(await scheduleRow(other, 'legacy_broken')).toBeNull();
    // The first minute computes the next slot and fires nothing.
    const at = minuteFromNow(5);
    await minuteCron(at);
    expect(await runsOf(other, 'legacy')).toHaveLength(0);
    const next = (await scheduleRow(other, 'legacy'))!.next_fire_at!;
    expect(next).toBeGreaterThan(at);
    expect(next % (10 * MINUTE)).toBe(0);
  });
});

describe('many schedules', () => {
  it('fires every due schedule in one minute, past the first page of 100', async () => {
    const d = await workspace('Busy Schedules Co');
    await publish(d, scheduleFlow('bulk_0', { cron: '* * * * *' }));
    const tenantId = d.owner.tenant.id;
    // 119 more, copied in SQL: publishing them one by one through the API would be slow.
    await env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 119)
         INSERT INTO workflows (id, tenant_id, key, name, draft, active_version, hook_id, created_at, updated_at)
         SELECT 'wf_bulk_' || i, tenant_id, 'bulk_' || i, name, draft, 1, 'hk_bulk_' || i, created_at, updated_at
         FROM workflows, n WHERE tenant_id = ? AND key = 'bulk_0'`,
      ).bind(tenantId),
      env.DB.prepare(
        `INSERT INTO workflow_versions (id, tenant_id, workflow_id, version, definition, created_by, created_at)
         SELECT 'wfv_' || w.id, v.tenant_id, w.id, 1, v.definition, v.created_by, v.created_at
         FROM workflows w JOIN workflow_versions v ON v.tenant_id = w.tenant_id
           AND v.workflow_id = (SELECT id FROM workflows WHERE key = 'bulk_0' AND tenant_id = ?)
         WHERE w.tenant_id = ? AND w.key <> 'bulk_0'`,
      ).bind(tenantId, tenantId),
      env.DB.prepare(
        `INSERT INTO workflow_schedules (workflow_id, tenant_id, version, cron, timezone, next_fire_at, updated_at)
         SELECT w.id, s.tenant_id, 1, s.cron, s.timezone, s.next_fire_at, s.updated_at
         FROM workflows w JOIN workflow_schedules s ON s.tenant_id = w.tenant_id
           AND s.workflow_id = (SELECT id FROM workflows WHERE key = 'bulk_0' AND tenant_id = ?)
         WHERE w.tenant_id = ? AND w.key <> 'bulk_0'`,
      ).bind(tenantId, tenantId),
    ]);
    const count = (sql: string) => env.DB.prepare(sql).bind(tenantId).first<number>('n');
    expect(await count('SELECT count(*) AS n FROM workflow_schedules WHERE tenant_id = ?')).toBe(120);
    const at = minuteFromNow(8);
    const t0 = Date.now();
    await minuteCron(at);
    console.log(JSON.stringify({ measured: 'minute cron firing 120 schedules', ms: Date.now() - t0 }));
    // Each run is in its tenant's run index by the time its start answers.
    const rows = "SELECT count(*) AS n FROM runs WHERE trigger_type = 'schedule'";
    expect(await indexCount(tenantId, rows)).toBe(120);
    expect(
      await count(`SELECT count(*) AS n FROM workflow_schedules WHERE tenant_id = ? AND next_fire_at = ${at + MINUTE}`),
    ).toBe(120);
  }, 60_000);
});

describe('isolation', () => {
  it("fires tenant B's schedule although tenant A's rows are broken, and audits A's failures", async () => {
    const a = await workspace('Broken Schedules A');
    const b = await workspace('Healthy Schedules B');
    await publish(a, scheduleFlow('a_bad_json', { cron: '* * * * *' }));
    await publish(a, scheduleFlow('a_bad_cron', { cron: '* * * * *' }));
    await publish(a, scheduleFlow('a_deep', { cron: '* * * * *' }));
    await publish(b, scheduleFlow('b_tick', { cron: '* * * * *' }));
    await publish(b, apiFlow('b_stuck', [{ id: 'x', type: 'transform', output: { ok: true } }]));
    const aId = a.owner.tenant.id;
    const versionOf = 'workflow_id = (SELECT id FROM workflows WHERE key = ? AND tenant_id = ?) AND tenant_id = ?';

    // Planted straight in D1, as data from before today's checks or a bug could leave them.
    await env.DB.prepare(`UPDATE workflow_versions SET definition = '{"trigger": {"type": "sched' WHERE ${versionOf}`)
      .bind('a_bad_json', aId, aId)
      .run();
    await env.DB.prepare(`UPDATE workflow_schedules SET cron = 'every full moon' WHERE ${versionOf}`)
      .bind('a_bad_cron', aId, aId)
      .run();
    // What once stopped every tenant's schedules: a definition nested ~1,000 deep, which
    // SQLite's json_extract refuses.
    const deep = scheduleFlow('a_deep', { cron: '* * * * *' }) as Record<string, unknown>;
    const deepText = JSON.stringify({ ...deep, ui: 0 }).replace('"ui":0', `"ui":${deepObject(1200)}`);
    await env.DB.prepare(`UPDATE workflow_versions SET definition = ? WHERE ${versionOf}`)
      .bind(deepText, 'a_deep', aId, aId)
      .run();
    await expect(
      env.DB.prepare(`SELECT json_extract(definition, '$.trigger.type') FROM workflow_versions WHERE ${versionOf}`)
        .bind('a_deep', aId, aId)
        .first(),
    ).rejects.toThrow(/malformed JSON/);

    const at = minuteFromNow(6);
    await minuteCron(at);

    // B's schedule fired.
    const bRuns = await runsOf(b, 'b_tick');
    expect(bRuns).toHaveLength(1);
    expect((await waitForRun(bRuns[0].id, { token: b.token })).status).toBe('succeeded');

    // A's deep definition is no problem for the index: it fired too.
    expect(await runsOf(a, 'a_deep')).toHaveLength(1);
    expect(await runsOf(a, 'a_bad_json')).toHaveLength(0);
    expect(await runsOf(a, 'a_bad_cron')).toHaveLength(0);

    // Each failure is audited against A, with the reason and nothing of the definition.
    const audit = await call('GET', '/api/audit?action=schedule.failed', { token: a.token });
    const byTarget = Object.fromEntries(audit.json.entries.map((e: any) => [e.targetId, e]));
    expect(Object.keys(byTarget).sort()).toEqual(['a_bad_cron', 'a_bad_json']);
    expect(byTarget.a_bad_json.context.reason).toMatch(/not valid JSON/);
    expect(byTarget.a_bad_json.context.reason).not.toContain('sched');
    expect(byTarget.a_bad_json.context.nextFireAt).toBe(new Date(at + MINUTE).toISOString());
    expect(byTarget.a_bad_cron.context.reason).toMatch(/^not a 5-field cron expression/);
    expect(byTarget.a_bad_cron.context.nextFireAt).toBeNull();
    expect(byTarget.a_bad_cron).toMatchObject({ actorType: 'system', actorLabel: 'scheduler' });
    const bAudit = await call('GET', '/api/audit?action=schedule.failed', { token: b.token });
    expect(bAudit.json.entries).toHaveLength(0);

    // A second invocation for the same minute neither re-fires B nor re-audits A.
    await minuteCron(at + 5_000);
    expect(await runsOf(b, 'b_tick')).toHaveLength(1);
    expect((await call('GET', '/api/audit?action=schedule.failed', { token: a.token })).json.entries).toHaveLength(2);
    // The unreadable cron is parked until a new version is published; the bad JSON is tried at its next slot.
    expect((await scheduleRow(a, 'a_bad_cron'))!.next_fire_at).toBeNull();
    expect((await scheduleRow(a, 'a_bad_json'))!.next_fire_at).toBe(at + MINUTE);
  });

  it('runs the retention phase even when the whole schedule phase fails', async () => {
    const c = await workspace('Prune Anyway Co');
    await publish(c, apiFlow('c_old', [{ id: 'x', type: 'transform', output: {} }]));
    // A run recorded in D1 before the run index, long expired: the cron's retention phase removes it.
    const tenantId = c.owner.tenant.id;
    const wf = await env.DB.prepare("SELECT id FROM workflows WHERE key = 'c_old' AND tenant_id = ?")
      .bind(tenantId)
      .first<{ id: string }>();
    const old = Date.now() - 100 * 24 * 60 * MINUTE;
    await env.DB.prepare(
      `INSERT INTO runs (id, tenant_id, workflow_id, workflow_key, version, status, trigger_type, created_at, finished_at, updated_at)
       VALUES ('run_legacy_c', ?, ?, 'c_old', 1, 'succeeded', 'api', ?, ?, ?)`,
    )
      .bind(tenantId, wf!.id, old, old, old)
      .run();
    // The schedule query itself fails (its table is gone for this invocation).
    await env.DB.prepare('ALTER TABLE workflow_schedules RENAME TO workflow_schedules_away').run();
    try {
      await minuteCron(minuteFromNow(7));
    } finally {
      await env.DB.prepare('ALTER TABLE workflow_schedules_away RENAME TO workflow_schedules').run();
    }
    expect(await env.DB.prepare("SELECT count(*) AS n FROM runs WHERE id = 'run_legacy_c'").first<number>('n')).toBe(0);
  });
});
