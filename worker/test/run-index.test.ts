/**
 * The tenant's run index and the run objects behind the Explorer: tenant isolation on
 * every route that reads runs (list, detail, retry, audit, dashboard, counts), malformed
 * run ids, and the engine's audit entries merged into GET /api/audit with D1's under the
 * same filters and cursor.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniquePath } from '../../connectors/testing/stub-client';
import type { RunIndex } from '../src/run-index/run-index';
import { runIndex } from '../src/run-index/run-index-stub';
import { call, waitForRun } from './helpers/api';
import { apiFlow, http } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

let a: Workspace;
let b: Workspace;
let okRun: string;
let failedRun: string;

beforeAll(async () => {
  a = await workspace('Index A');
  b = await workspace('Index B');
  await publish(
    a,
    apiFlow('calls', [
      http('call', `${env.STUB_URL}/http/ok`, { next: 'shape' }),
      { id: 'shape', type: 'transform', output: { ok: true } },
    ]),
  );
  // The stub answers 404 on an unknown path: a permanent failure on the first attempt.
  await publish(
    a,
    apiFlow('breaks', [http('call', `${env.STUB_URL}${uniquePath('/missing')}`, { retry: { maxAttempts: 1 } })]),
  );
  // B has a workflow of the same key: nothing of A's may show through it.
  await publish(b, apiFlow('calls', [{ id: 'shape', type: 'transform', output: {} }]));
  okRun = (await waitForRun(await startRun(a, 'calls', { n: 1 }), { token: a.token })).id;
  failedRun = (await waitForRun(await startRun(a, 'breaks', {}), { token: a.token })).id;
  await waitForRun(await startRun(b, 'calls', {}), { token: b.token });
});

describe('tenant isolation', () => {
  it("lists, reads, retries and counts only the caller's runs", async () => {
    const mine = await call('GET', '/api/runs?limit=200', { token: a.token });
    expect(mine.json.runs.map((r: any) => r.id)).toEqual(expect.arrayContaining([okRun, failedRun]));
    for (const query of ['limit=200', 'workflow=calls', 'workflow=breaks', 'status=failed', 'status=succeeded']) {
      const theirs = await call('GET', `/api/runs?${query}`, { token: b.token });
      expect(theirs.status).toBe(200);
      const ids = theirs.json.runs.map((r: any) => r.id);
      expect(ids).not.toContain(okRun);
      expect(ids).not.toContain(failedRun);
    }
    for (const id of [okRun, failedRun]) {
      const read = await call('GET', `/api/runs/${id}`, { token: b.token });
      expect(read.status).toBe(404);
      expect(read.json.error.code).toBe('run_not_found');
      expect(read.text).not.toContain('call');
    }
    const retry = await call('POST', `/api/runs/${failedRun}/retry`, { token: b.token });
    expect(retry.status).toBe(404);
    expect(retry.json.error.code).toBe('run_not_found');
    // B's dashboard and counts see only B's one run.
    const stats = await call('GET', '/api/stats/overview', { token: b.token });
    expect(stats.json.totals).toMatchObject({ runs: 1, failed: 0 });
    expect(stats.json.latestFailures).toEqual([]);
    expect((await call('GET', '/api/workflows/calls/runs/count', { token: b.token })).json).toEqual({
      total: 1,
      inFlight: 0,
    });
    // A, for contrast, reads and retries its own.
    expect((await call('GET', `/api/runs/${okRun}`, { token: a.token })).json.steps.map((s: any) => s.id)).toEqual([
      'call',
      'shape',
    ]);
    expect((await call('POST', `/api/runs/${failedRun}/retry`, { token: a.token })).status).toBe(202);
  });

  it("never shows another tenant's engine audit entries, whatever the filter", async () => {
    for (const query of [
      `run=${okRun}`,
      `run=${failedRun}`,
      'action=step.attempt',
      'action=step.*',
      'actor=engine',
      'limit=500',
    ]) {
      const res = await call('GET', `/api/audit?${query}`, { session: b.owner });
      expect(res.status).toBe(200);
      const runs = res.json.entries.map((e: any) => e.runId);
      expect(runs).not.toContain(okRun);
      expect(runs).not.toContain(failedRun);
    }
  });

  it('answers 404 for run ids that are malformed or unknown', async () => {
    for (const id of ['nope', 'run_', 'run_zzzz', `${okRun}x`, 'x'.repeat(100)]) {
      const res = await call('GET', `/api/runs/${id}`, { token: a.token });
      expect(res.status, id).toBe(404);
      expect(res.json.error.code).toBe('run_not_found');
      expect((await call('POST', `/api/runs/${id}/retry`, { token: a.token })).status, id).toBe(404);
    }
  });
});

describe("the engine's audit entries", () => {
  it('list with D1 entries under one filter and one cursor, newest first, each once', async () => {
    const all = await call('GET', `/api/audit?run=${okRun}&limit=500`, { session: a.owner });
    expect(all.status).toBe(200);
    const entries = all.json.entries;
    // The http step's attempt and the transform's, as the engine recorded them.
    const attempts = entries.filter((e: any) => e.action === 'step.attempt');
    expect(attempts.map((e: any) => e.context.stepId).sort()).toEqual(['call', 'shape']);
    expect(attempts[0]).toMatchObject({ actorType: 'system', actorId: null, actorLabel: 'engine', runId: okRun });
    expect(attempts[0].targetId).toBe('calls');
    // A governance entry about the same run, in D1.
    await env.DB.prepare(
      "INSERT INTO audit_log (id, tenant_id, at, actor_type, actor_id, actor_label, action, run_id) VALUES ('aud_zz_gov', ?, ?, 'user', 'u1', 'ana@example.com', 'run.retry', ?)",
    )
      .bind(a.owner.tenant.id, attempts[0].at, okRun)
      .run();
    const merged = (await call('GET', `/api/audit?run=${okRun}&limit=500`, { session: a.owner })).json.entries;
    expect(merged).toHaveLength(entries.length + 1);
    const order = merged.map((e: any) => [e.at, e.id]);
    const sorted = [...order].sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? 1 : x[1] > y[1] ? -1 : 0));
    expect(order).toEqual(sorted);
    // Paged one at a time: the same entries, in the same order, none twice.
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: any = await call('GET', `/api/audit?run=${okRun}&limit=1${cursor ? `&cursor=${cursor}` : ''}`, {
        session: a.owner,
      });
      paged.push(...page.json.entries.map((e: any) => e.id));
      cursor = page.json.nextCursor;
      if (!cursor) break;
    }
    expect(paged).toEqual(merged.map((e: any) => e.id));
    // Filters apply to both sides.
    const engineOnly = (await call('GET', `/api/audit?run=${okRun}&actor=engine`, { session: a.owner })).json.entries;
    expect(engineOnly.map((e: any) => e.id)).toEqual(attempts.map((e: any) => e.id));
    const userOnly = (await call('GET', `/api/audit?run=${okRun}&actor=ana@example.com`, { session: a.owner })).json
      .entries;
    expect(userOnly.map((e: any) => e.id)).toEqual(['aud_zz_gov']);
    const byAction = (await call('GET', `/api/audit?run=${okRun}&action=run.*`, { session: a.owner })).json.entries;
    expect(byAction.map((e: any) => e.id)).toEqual(['aud_zz_gov']);
    const before = (await call('GET', `/api/audit?run=${okRun}&before=${attempts.at(-1).at}`, { session: a.owner }))
      .json.entries;
    expect(before.every((e: any) => e.at < attempts.at(-1).at)).toBe(true);
  });

  it('are written once however often a flush is retried', async () => {
    const count = () =>
      runInDurableObject(runIndex(env, a.owner.tenant.id), (_i: RunIndex, state) =>
        Number(
          state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM audit WHERE run_id = ?', okRun).one().n,
        ),
      );
    const before = await count();
    const detail = (await call('GET', `/api/runs/${okRun}`, { token: a.token })).json;
    // The same batch again, as after a flush whose answer was lost.
    const entries = (await call('GET', `/api/audit?run=${okRun}&action=step.attempt`, { session: a.owner })).json
      .entries;
    await runIndex(env, a.owner.tenant.id).record({
      run: {
        id: okRun,
        tenantId: a.owner.tenant.id,
        workflowId: 'wf_x',
        workflowKey: 'calls',
        version: 1,
        status: 'succeeded',
        triggerType: 'api',
        triggerRef: null,
        error: null,
        retryOf: null,
        createdAt: detail.createdAt,
        startedAt: detail.startedAt,
        finishedAt: detail.finishedAt,
        inFlight: false,
      },
      steps: [],
      audit: entries.map((e: any) => ({ action: e.action, at: e.at, context: e.context })),
    });
    expect(await count()).toBe(before);
  });

  it("refuses a batch for another tenant's index", async () => {
    // Called inside the object: the same method an RPC reaches.
    const attempt = runInDurableObject(runIndex(env, a.owner.tenant.id), (index: RunIndex) =>
      index.record({
        run: {
          id: 'run_foreign',
          tenantId: b.owner.tenant.id,
          workflowId: 'wf_x',
          workflowKey: 'calls',
          version: 1,
          status: 'succeeded',
          triggerType: 'api',
          triggerRef: null,
          error: null,
          retryOf: null,
          createdAt: Date.now(),
          startedAt: Date.now(),
          finishedAt: Date.now(),
          inFlight: false,
        },
        steps: [],
        audit: [],
      }),
    );
    await expect(attempt).rejects.toThrow(/another tenant/);
  });
});
