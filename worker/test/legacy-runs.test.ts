/**
 * Runs recorded in D1 before the run index (docs/execution.md, "Runs from before the run
 * index"): planted as the old flush left them, for two tenants, then imported by the minute
 * cron into each tenant's index. The Explorer lists, filters and pages them among new runs,
 * the dashboard counts them, their detail reads from the imported record when their object
 * holds no state, another tenant sees none of it, a repeated or interrupted import changes
 * nothing, a small budget spreads a backlog over ticks, and retention ages them by their
 * original created time.
 */
import {
  createExecutionContext,
  createScheduledController,
  env,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniquePath } from '../../connectors/testing/stub-client';
import { createApp } from '../src/app';
import worker from '../src/index';
import { importLegacyRuns, indexChunk, STATELESS_RUN_ERROR } from '../src/run/legacy-import';
import { readLegacyRuns } from '../src/run/legacy-rows';
import type { RunIndex } from '../src/run-index/run-index';
import { runIndex } from '../src/run-index/run-index-stub';
import { DAY_MS, DEFAULT_RUN_RETENTION_DAYS } from '../src/tenants/settings';
import { call, type Result, waitForRun } from './helpers/api';
import { apiFlow, http } from './helpers/engine';
import { d1Count, legacyRowsLeft, plantLegacyRun } from './helpers/legacy-runs';
import { indexCount, inIndex } from './helpers/run-index';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

const HOUR_MS = 3_600_000;

async function minuteCron(scheduledTime = Date.now()) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** Every run the Explorer lists for `query`, paging `limit` at a time. */
async function listAll(ws: Workspace, query = '', limit = 2): Promise<{ id: string; status: string }[]> {
  const out: { id: string; status: string }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res: Result = await call(
      'GET',
      `/api/runs?limit=${limit}${query ? `&${query}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token: ws.token },
    );
    expect(res.status).toBe(200);
    out.push(...res.json.runs);
    cursor = res.json.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('too many pages');
}

/** Newest first, ties by id, as the Explorer orders. */
const newestFirst = (runs: { id: string; createdAt: number }[]) =>
  [...runs].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1)).map((r) => r.id);

const runDetailSchema = (() => {
  type Definition = { type: string; route?: { method: string; path: string; responses: any } };
  const route = (createApp().openAPIRegistry.definitions as Definition[]).find(
    (d) => d.type === 'route' && d.route!.method === 'get' && d.route!.path === '/api/runs/{id}',
  )?.route;
  return route!.responses[200].content['application/json'].schema as z.ZodType;
})();

/** Every index table a run leaves rows in, counted: what a repeated import must not change. */
const indexTotals = async (tenantId: string) => ({
  runs: await indexCount(tenantId, 'SELECT count(*) AS n FROM runs'),
  steps: await indexCount(tenantId, 'SELECT count(*) AS n FROM steps'),
  audit: await indexCount(tenantId, 'SELECT count(*) AS n FROM audit'),
  legacyRuns: await indexCount(tenantId, 'SELECT count(*) AS n FROM legacy_runs'),
  legacySteps: await indexCount(tenantId, 'SELECT count(*) AS n FROM legacy_steps'),
});

let a: Workspace;
let b: Workspace;
let tenantA: string;
let tenantB: string;
/** The runs A's and B's Explorers must list, with their created times. */
const listedA: { id: string; createdAt: number; status: string; workflow: string }[] = [];
const listedB: { id: string; createdAt: number; status: string; workflow: string }[] = [];
let failedLegacy: string;
let stuckLegacy: string;
let noEventLegacy: string;
let succeededLegacy: string;

beforeAll(async () => {
  a = await workspace('Legacy A');
  b = await workspace('Legacy B');
  tenantA = a.owner.tenant.id;
  tenantB = b.owner.tenant.id;
  const shape = [{ id: 'shape', type: 'transform', output: { ok: true } }];
  await publish(a, apiFlow('orders', shape));
  await publish(a, apiFlow('other', shape));
  // The stub answers 404 on an unknown path: a permanent failure on the first attempt.
  await publish(
    a,
    apiFlow('breaks', [http('call', `${env.STUB_URL}${uniquePath('/missing')}`, { retry: { maxAttempts: 1 } })]),
  );
  // B has a workflow of the same key: nothing of A's may show through it.
  await publish(b, apiFlow('orders', shape));

  // New runs, recorded by the index, a little apart so that a legacy run fits between them.
  const real = async (ws: Workspace, into: typeof listedA) => {
    const run = await waitForRun(await startRun(ws, 'orders', {}), { token: ws.token });
    into.push({ id: run.id, createdAt: run.createdAt, status: run.status, workflow: 'orders' });
    await new Promise((r) => setTimeout(r, 30));
    return run;
  };
  const first = await real(a, listedA);
  const second = await real(a, listedA);
  await real(b, listedB);

  const now = Date.now();
  const legacy = async (
    tenantId: string,
    into: typeof listedA,
    plant: Parameters<typeof plantLegacyRun>[1],
    listedAs = plant.status,
  ) => {
    const id = await plantLegacyRun(tenantId, plant);
    into.push({ id, createdAt: plant.createdAt, status: listedAs, workflow: plant.workflow });
    return id;
  };
  // A failed run between the two new ones, with every kind of recorded detail.
  const at = Math.floor((first.createdAt + second.createdAt) / 2);
  failedLegacy = await legacy(tenantA, listedA, {
    workflow: 'orders',
    status: 'failed',
    createdAt: at,
    error: { message: 'charge: card declined', stepId: 'charge' },
    steps: [
      {
        id: 'fetch',
        status: 'succeeded',
        seq: 1,
        input: { url: 'https://shop.example/orders/7' },
        output: { total: 120 },
        attemptLog: [{ n: 1, attemptId: 'a:fetch:1', queuedAt: at + 2, outcome: 'succeeded' }],
        startedAt: at + 3,
        finishedAt: at + 9,
      },
      {
        id: 'charge',
        status: 'failed',
        seq: 2,
        input: { amount: 120 },
        error: { message: 'card declined', stack: 'Error: card declined\n    at charge (pay.ts:12)', retryable: false },
        attemptLog: [
          {
            n: 1,
            attemptId: 'a:charge:1',
            queuedAt: at + 10,
            outcome: 'retrying',
            error: { message: 'busy', retryable: true },
          },
          {
            n: 2,
            attemptId: 'a:charge:2',
            queuedAt: at + 20,
            outcome: 'failed',
            error: { message: 'card declined', retryable: false },
          },
        ],
        startedAt: at + 10,
        finishedAt: at + 30,
      },
    ],
  });
  await legacy(tenantA, listedA, { workflow: 'other', status: 'failed', createdAt: now - HOUR_MS });
  succeededLegacy = await legacy(tenantA, listedA, {
    workflow: 'orders',
    status: 'succeeded',
    createdAt: now - 2 * HOUR_MS,
    steps: [{ id: 'shape', type: 'transform', status: 'succeeded', seq: 1, output: { ok: true } }],
  });
  // Same created time: the Explorer breaks the tie by id.
  await legacy(tenantA, listedA, { workflow: 'orders', status: 'succeeded', createdAt: now - 2 * HOUR_MS });
  // Still "running" in D1, and its object holds no state: nothing will ever finish it.
  stuckLegacy = await legacy(
    tenantA,
    listedA,
    { workflow: 'orders', status: 'running', createdAt: now - 4 * HOUR_MS },
    'failed',
  );
  // Recorded before D1 kept the trigger event (migration 0003).
  noEventLegacy = await legacy(tenantA, listedA, {
    workflow: 'orders',
    status: 'succeeded',
    createdAt: now - 3 * DAY_MS,
    trigger: null,
  });
  await legacy(tenantB, listedB, {
    workflow: 'orders',
    status: 'failed',
    createdAt: now - 90 * 60_000,
    error: { message: 'B broke' },
    steps: [{ id: 'shape', status: 'failed', seq: 1, error: { message: 'B broke', retryable: false } }],
  });
  await legacy(tenantB, listedB, { workflow: 'orders', status: 'succeeded', createdAt: now - 5 * HOUR_MS });
  // A governance entry about a legacy run (a user retried it) stays in D1.
  await env.DB.prepare(
    `INSERT INTO audit_log (id, tenant_id, at, actor_type, actor_id, action, target_type, target_id, run_id)
     VALUES ('aud_gov_legacy', ?, ?, 'user', 'u1', 'run.retry', 'run', ?, ?)`,
  )
    .bind(tenantA, at + 100, failedLegacy, failedLegacy)
    .run();
});

describe('runs recorded in D1 before the run index', () => {
  it('are listed, filtered, paged among new runs and counted once the minute cron has imported them', async () => {
    const legacyIds = [...listedA, ...listedB].map((r) => r.id).filter((id) => id.length < 30);
    expect(legacyIds).toHaveLength(8);
    // The gap: before the import, the Explorer (the index) knows none of them.
    const before = (await listAll(a, '', 200)).map((r) => r.id);
    expect(before).toEqual(newestFirst(listedA.filter((r) => r.id.length > 30)));

    await minuteCron();
    expect(await legacyRowsLeft(legacyIds)).toBe(0);
    expect(await d1Count("SELECT count(*) AS n FROM audit_log WHERE id = 'aud_gov_legacy'")).toBe(1);

    // Everything, two a page, in the order of their original created times.
    const all = await listAll(a);
    expect(all.map((r) => r.id)).toEqual(newestFirst(listedA));
    expect(Object.fromEntries(all.map((r) => [r.id, r.status]))).toEqual(
      Object.fromEntries(listedA.map((r) => [r.id, r.status])),
    );
    const listed = all.find((r) => r.id === failedLegacy);
    expect(listed).toMatchObject({
      workflow: 'orders',
      version: 1,
      status: 'failed',
      triggerType: 'webhook',
      error: { message: 'charge: card declined', stepId: 'charge' },
      retryOf: null,
    });
    // Filters, alone and together, paged one at a time.
    const only = (f: (r: (typeof listedA)[number]) => boolean) => newestFirst(listedA.filter(f));
    expect((await listAll(a, 'status=failed')).map((r) => r.id)).toEqual(only((r) => r.status === 'failed'));
    expect((await listAll(a, 'workflow=other')).map((r) => r.id)).toEqual(only((r) => r.workflow === 'other'));
    expect((await listAll(a, 'workflow=orders&status=succeeded', 1)).map((r) => r.id)).toEqual(
      only((r) => r.workflow === 'orders' && r.status === 'succeeded'),
    );
    // The stuck one is listed failed, saying why.
    expect(all.find((r) => r.id === stuckLegacy)).toMatchObject({
      status: 'failed',
      error: { message: STATELESS_RUN_ERROR },
    });

    // B: its own runs only, whatever the filter.
    expect((await listAll(b)).map((r) => r.id)).toEqual(newestFirst(listedB));
    const aIds = new Set(listedA.map((r) => r.id));
    for (const query of ['', 'status=failed', 'status=succeeded', 'workflow=orders', 'workflow=other'])
      for (const r of await listAll(b, query, 200)) expect(aIds.has(r.id), `${query}: ${r.id}`).toBe(false);

    // The dashboard and the workflow's run count include them (the 3-day-old one is outside 24 h).
    const statsA = (await call('GET', '/api/stats/overview?hours=24', { token: a.token })).json;
    expect(statsA.totals).toMatchObject({ runs: listedA.length - 1, failed: 3 });
    expect(statsA.latestFailures.map((f: { id: string }) => f.id)).toEqual(
      expect.arrayContaining([failedLegacy, stuckLegacy]),
    );
    const statsB = (await call('GET', '/api/stats/overview?hours=24', { token: b.token })).json;
    expect(statsB.totals).toMatchObject({ runs: listedB.length, failed: 1 });
    expect((await call('GET', '/api/workflows/orders/runs/count', { token: a.token })).json).toEqual({
      total: listedA.filter((r) => r.workflow === 'orders').length,
      inFlight: 0,
    });
    expect((await call('GET', '/api/workflows/orders/runs/count', { token: b.token })).json).toEqual({
      total: listedB.length,
      inFlight: 0,
    });
  });

  it("shows an imported run's detail from its record: steps, errors, stacks, attempt logs; never to another tenant", async () => {
    const res = await call('GET', `/api/runs/${failedLegacy}`, { token: a.token });
    expect(res.status).toBe(200);
    // The same shape as any run's detail, no field more or less.
    const parsed = runDetailSchema.safeParse(res.json);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data).toEqual(res.json);
    const run = res.json;
    expect(run).toMatchObject({
      id: failedLegacy,
      workflow: 'orders',
      status: 'failed',
      error: { message: 'charge: card declined', stepId: 'charge' },
      trigger: { body: { order: failedLegacy }, headers: { 'content-type': 'application/json' }, query: {} },
    });
    expect(run.steps.map((s: { id: string }) => s.id)).toEqual(['fetch', 'charge']);
    const [fetchStep, charge] = run.steps;
    expect(fetchStep).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      input: { url: 'https://shop.example/orders/7' },
      output: { total: 120 },
      error: null,
    });
    expect(charge).toMatchObject({
      status: 'failed',
      attempts: 2,
      input: { amount: 120 },
      output: null,
      error: { message: 'card declined', stack: 'Error: card declined\n    at charge (pay.ts:12)', retryable: false },
    });
    expect(charge.attemptLog.map((l: { outcome: string }) => l.outcome)).toEqual(['retrying', 'failed']);
    // The engine's attempt entries moved with it: the run's audit log still lists them (once).
    const audit = await call('GET', `/api/audit?run=${failedLegacy}`, { token: a.token });
    expect(audit.json.entries.map((e: { action: string }) => e.action).sort()).toEqual([
      'run.retry',
      'step.attempt',
      'step.attempt',
      'step.attempt',
    ]);

    // A run recorded before D1 kept the event, and one that could not finish.
    const noEvent = await call('GET', `/api/runs/${noEventLegacy}`, { token: a.token });
    expect(noEvent.json).toMatchObject({ status: 'succeeded', trigger: null, steps: [] });
    const stuck = await call('GET', `/api/runs/${stuckLegacy}`, { token: a.token });
    expect(stuck.json).toMatchObject({ status: 'failed', error: { message: STATELESS_RUN_ERROR } });

    // B can read none of A's, by id or through the audit log, and A none of B's.
    for (const id of [failedLegacy, stuckLegacy, noEventLegacy]) {
      const theirs = await call('GET', `/api/runs/${id}`, { token: b.token });
      expect(theirs.status).toBe(404);
      expect(theirs.json.error.code).toBe('run_not_found');
      expect(theirs.text).not.toContain('card declined');
    }
    expect((await call('GET', `/api/audit?run=${failedLegacy}`, { token: b.token })).json.entries).toEqual([]);
    const bFailed = listedB.find((r) => r.status === 'failed')!.id;
    expect((await call('GET', `/api/runs/${bFailed}`, { token: a.token })).status).toBe(404);
    expect((await call('GET', `/api/runs/${bFailed}`, { token: b.token })).json.error).toEqual({ message: 'B broke' });
  });

  it('refuses to retry an imported run without state, naming why; one whose object kept its state retries', async () => {
    const refused = await call('POST', `/api/runs/${failedLegacy}/retry`, { token: a.token });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('legacy_run_not_retryable');
    expect(refused.json.error.message).toContain('before the run index');
    expect((await call('POST', `/api/runs/${failedLegacy}/retry`, { token: b.token })).status).toBe(404);
    const succeeded = await call('POST', `/api/runs/${succeededLegacy}/retry`, { token: a.token });
    expect(succeeded.json.error.code).toBe('run_not_retryable');

    // A run from before the index whose object kept its state, and which D1 last saw running
    // (its final flush never reached D1): the index never had it.
    const kept = await waitForRun(await startRun(a, 'breaks', {}), { token: a.token });
    expect(kept.status).toBe('failed');
    await inIndex(tenantA, 'DELETE FROM runs WHERE id = ?', kept.id);
    await inIndex(tenantA, 'DELETE FROM steps WHERE run_id = ?', kept.id);
    await plantLegacyRun(tenantA, { id: kept.id, workflow: 'breaks', status: 'running', createdAt: kept.createdAt });
    expect((await importLegacyRuns(env, Date.now())).added).toBe(1);
    // Listed as its object has it, read from its object (steps and all), and retried from it.
    const listed = (await listAll(a, 'workflow=breaks', 200)).find((r) => r.id === kept.id);
    expect(listed).toMatchObject({ status: 'failed', error: kept.error });
    expect((await call('GET', `/api/runs/${kept.id}`, { token: a.token })).json).toEqual(kept);
    const retried = await call('POST', `/api/runs/${kept.id}/retry`, { token: a.token });
    expect(retried.status).toBe(202);
    await waitForRun(retried.json.runId, { token: a.token });
  });

  it('leaves runs the index has as they are, and changes nothing when repeated or interrupted', async () => {
    // A D1 row of a run the index already has (its object flushed there): the index's data wins.
    const indexed = listedA.find((r) => r.id.length > 30)!;
    await plantLegacyRun(tenantA, {
      id: indexed.id,
      workflow: 'orders',
      status: 'failed',
      createdAt: indexed.createdAt - 5_000,
      steps: [{ id: 'shape', status: 'failed', seq: 1, error: { message: 'stale', retryable: false } }],
    });
    const page = async () => (await call('GET', '/api/runs?limit=200', { token: a.token })).json;
    const totals = await indexTotals(tenantA);
    const before = await page();
    await minuteCron();
    expect(await legacyRowsLeft([indexed.id])).toBe(0);
    expect(await page()).toEqual(before);
    expect(await indexTotals(tenantA)).toEqual(totals);

    // An import interrupted after its index write, before the D1 delete (the batch fails):
    // the rows stay in D1, and the next tick repeats the chunk without adding anything twice.
    const now = Date.now();
    const step = { id: 'shape', status: 'succeeded', seq: 1, output: { n: 1 } };
    const interrupted = [
      await plantLegacyRun(tenantA, {
        workflow: 'orders',
        status: 'succeeded',
        createdAt: now - 10 * 60_000,
        steps: [{ ...step, attemptLog: [{ n: 1, attemptId: 'x', queuedAt: now - 10 * 60_000 }] }],
      }),
      await plantLegacyRun(tenantA, { workflow: 'orders', status: 'failed', createdAt: now - 11 * 60_000 }),
    ];
    await env.DB.prepare('ALTER TABLE webhook_events RENAME TO webhook_events_away').run();
    try {
      expect(await importLegacyRuns(env, now)).toMatchObject({ runs: 0, added: 2, more: true });
    } finally {
      await env.DB.prepare('ALTER TABLE webhook_events_away RENAME TO webhook_events').run();
    }
    expect(await d1Count('SELECT count(*) AS n FROM runs WHERE tenant_id = ?', tenantA)).toBe(2);
    const afterFirst = await indexTotals(tenantA);
    expect(afterFirst).toEqual({
      runs: totals.runs + 2,
      steps: totals.steps + 1,
      audit: totals.audit + 1,
      legacyRuns: totals.legacyRuns + 2,
      legacySteps: totals.legacySteps + 1,
    });
    expect(await importLegacyRuns(env, now)).toMatchObject({ runs: 2, added: 0, more: false });
    expect(await legacyRowsLeft(interrupted)).toBe(0);
    expect(await indexTotals(tenantA)).toEqual(afterFirst);
    const listed = (await page()).runs.map((r: { id: string }) => r.id);
    for (const id of interrupted) expect(listed.filter((x: string) => x === id)).toHaveLength(1);
    expect(await importLegacyRuns(env, now)).toMatchObject({ runs: 0, added: 0 });
  });

  it('forgets a chunk whose workflow was deleted while the chunk was on its way to the index', async () => {
    const d = await workspace('Legacy D');
    await publish(d, apiFlow('doomed', [{ id: 'shape', type: 'transform', output: {} }]));
    const tenantD = d.owner.tenant.id;
    const now = Date.now();
    const ids = [
      await plantLegacyRun(tenantD, { workflow: 'doomed', status: 'succeeded', createdAt: now - 60_000 }),
      await plantLegacyRun(tenantD, { workflow: 'doomed', status: 'failed', createdAt: now - 120_000 }),
    ];
    // The import has read its chunk from D1 when the workflow is deleted (its runs are not in
    // the index yet, so the delete's own forget finds nothing); the chunk then reaches the index.
    const chunk = await readLegacyRuns(env.DB, tenantD, 50);
    expect(chunk.map((r) => r.run.id).sort()).toEqual([...ids].sort());
    const deleted = await call('DELETE', '/api/workflows/doomed', { token: d.token });
    expect(deleted.status).toBe(200);
    await indexChunk(env, tenantD, chunk);
    expect(await listAll(d)).toEqual([]);
    for (const id of ids) expect((await call('GET', `/api/runs/${id}`, { token: d.token })).status).toBe(404);
    expect(await legacyRowsLeft(ids)).toBe(0);
  });

  it('spreads a backlog larger than the budget over several ticks, newest first', async () => {
    const c = await workspace('Legacy C');
    await publish(c, apiFlow('orders', [{ id: 'shape', type: 'transform', output: {} }]));
    const tenantC = c.owner.tenant.id;
    const now = Date.now();
    const planted: { id: string; createdAt: number }[] = [];
    for (let i = 1; i <= 7; i++) {
      const createdAt = now - i * 60_000;
      planted.push({
        id: await plantLegacyRun(tenantC, { workflow: 'orders', status: 'succeeded', createdAt }),
        createdAt,
      });
    }
    const order = newestFirst(planted);
    const left = () => d1Count('SELECT count(*) AS n FROM runs WHERE tenant_id = ?', tenantC);
    const listed = async () => (await listAll(c, '', 200)).map((r) => r.id);
    const budget = { budget: 3, chunk: 2 };
    expect(await importLegacyRuns(env, now, budget)).toEqual({ runs: 3, added: 3, tenants: 1, more: true });
    expect(await left()).toBe(4);
    expect(await listed()).toEqual(order.slice(0, 3));
    expect(await importLegacyRuns(env, now, budget)).toEqual({ runs: 3, added: 3, tenants: 1, more: true });
    expect(await listed()).toEqual(order.slice(0, 6));
    expect(await importLegacyRuns(env, now, budget)).toEqual({ runs: 1, added: 1, tenants: 1, more: false });
    expect(await left()).toBe(0);
    expect(await listed()).toEqual(order);
    expect(await importLegacyRuns(env, now, budget)).toEqual({ runs: 0, added: 0, tenants: 0, more: false });
  });

  it('ages imported runs out by their original created time, with their records and objects', async () => {
    const d = await workspace('Legacy D');
    await publish(d, apiFlow('orders', [{ id: 'shape', type: 'transform', output: {} }]));
    const tenantD = d.owner.tenant.id;
    const now = Date.now();
    const step = {
      id: 'shape',
      status: 'succeeded',
      seq: 1,
      output: {},
      attemptLog: [{ n: 1, attemptId: 'y', queuedAt: now }],
    };
    const expired = await plantLegacyRun(tenantD, {
      workflow: 'orders',
      status: 'failed',
      createdAt: now - (DEFAULT_RUN_RETENTION_DAYS + 2) * DAY_MS,
      steps: [step],
    });
    const young = await plantLegacyRun(tenantD, {
      workflow: 'orders',
      status: 'succeeded',
      createdAt: now - (DEFAULT_RUN_RETENTION_DAYS - 1) * DAY_MS,
      steps: [step],
    });
    // The import itself (the cron's retention phase would prune the expired one from D1 first).
    expect(await importLegacyRuns(env, now)).toMatchObject({ runs: 2, added: 2 });
    expect((await call('GET', `/api/runs/${expired}`, { token: d.token })).status).toBe(200);
    // The index's alarm was armed by the import; one round of its upkeep prunes.
    const alarm = await runInDurableObject(runIndex(env, tenantD), (_i: RunIndex, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(await runIndex(env, tenantD).upkeep(Date.now())).toMatchObject({ pruned: 1 });
    expect((await listAll(d, '', 200)).map((r) => r.id)).toEqual([young]);
    expect((await call('GET', `/api/runs/${expired}`, { token: d.token })).status).toBe(404);
    for (const table of ['legacy_runs', 'legacy_steps', 'steps', 'audit'])
      expect(await indexCount(tenantD, `SELECT count(*) AS n FROM ${table} WHERE run_id = ?`, expired)).toBe(0);
    expect(await indexCount(tenantD, 'SELECT count(*) AS n FROM legacy_steps WHERE run_id = ?', young)).toBe(1);
    expect((await call('GET', `/api/runs/${young}`, { token: d.token })).json.steps).toHaveLength(1);
  });
});
