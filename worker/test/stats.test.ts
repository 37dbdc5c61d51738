/**
 * The dashboard's aggregate endpoint over real runs: counts per hour, failure rate,
 * slowest steps and latest failures, each for the caller's tenant only.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniquePath } from '../../connectors/testing/stub-client';
import { LATEST_FAILURES_SQL, RUNS_PER_HOUR_SQL, SLOWEST_STEPS_SQL } from '../src/run-index/index-queries';
import { addMember, call, createToken, waitForRun } from './helpers/api';
import { apiFlow, http } from './helpers/engine';
import { inIndex } from './helpers/run-index';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

const HOUR = 3_600_000;
let ws: Workspace;
let other: Workspace;
const failedIds: string[] = [];

beforeAll(async () => {
  ws = await workspace('Stats Co');
  other = await workspace('Other Stats Co');
  await publish(
    ws,
    apiFlow('works', [
      http('call', `${env.STUB_URL}/http/ok`),
      { id: 'shape', type: 'transform', output: { ok: true } },
    ]),
  );
  // The stub answers 404 on an unknown path: a permanent failure on the first attempt.
  await publish(
    ws,
    apiFlow('breaks', [http('call', `${env.STUB_URL}${uniquePath('/missing')}`, { retry: { maxAttempts: 1 } })]),
  );
  await publish(other, apiFlow('theirs', [http('call', `${env.STUB_URL}${uniquePath('/missing')}`)]));
  const auth = { token: ws.token };
  for (let i = 0; i < 3; i++) await waitForRun(await startRun(ws, 'works', {}), auth);
  for (let i = 0; i < 2; i++) failedIds.push((await waitForRun(await startRun(ws, 'breaks', {}), auth)).id);
  await waitForRun(await startRun(other, 'theirs', {}), { token: other.token });
});

const overview = (query = '', who: { token?: string; session?: any } = { token: ws.token }) =>
  call('GET', `/api/stats/overview${query}`, who);

describe('GET /api/stats/overview', () => {
  it('counts this hour’s runs and their failure rate in 24 hourly buckets', async () => {
    const res = await overview();
    expect(res.status).toBe(200);
    const { hours, totals, since, until } = res.json;
    expect(hours).toHaveLength(24);
    expect(hours[0].hour).toBe(since);
    expect(hours[23].hour).toBe(Math.floor(until / HOUR) * HOUR);
    expect(hours.slice(0, 23).every((h: any) => h.total === 0 && h.failureRate === null)).toBe(true);
    expect(hours[23]).toMatchObject({ total: 5, succeeded: 3, failed: 2, failureRate: 0.4 });
    expect(totals).toEqual({ runs: 5, succeeded: 3, failed: 2, failureRate: 0.4 });
  });

  it('counts a run in the hour it was created', async () => {
    // Move one finished run back three hours, as if it had run then.
    const [id] = failedIds;
    const tenant = ws.owner.tenant.id;
    await inIndex(tenant, 'UPDATE runs SET created_at = created_at - ? WHERE id = ?', 3 * HOUR, id);
    const { hours } = (await overview()).json;
    expect(hours[20]).toMatchObject({ total: 1, failed: 1, failureRate: 1 });
    expect(hours[23]).toMatchObject({ total: 4, failed: 1 });
    await inIndex(tenant, 'UPDATE runs SET created_at = created_at + ? WHERE id = ?', 3 * HOUR, id);
  });

  it('lists the slowest steps by p95 with average, max and count', async () => {
    const { slowestSteps } = (await overview()).json;
    const keys = slowestSteps.map((s: any) => `${s.workflow}/${s.step}`).sort();
    // Transforms run inside the run object and record no duration: only the two actions are timed.
    expect(keys).toEqual(['breaks/call', 'works/call']);
    const call = slowestSteps.find((s: any) => s.workflow === 'works' && s.step === 'call');
    expect(call.count).toBe(3);
    expect(call.p95Ms).toBeGreaterThanOrEqual(call.avgMs - 1);
    expect(call.maxMs).toBeGreaterThanOrEqual(call.p95Ms);
    // Ordered by p95, slowest first.
    const p95s = slowestSteps.map((s: any) => s.p95Ms);
    expect(p95s).toEqual([...p95s].sort((a, b) => b - a));
  });

  it('computes p95 by nearest rank', async () => {
    // Twenty runs of one step taking 10, 20, ... 200 s: the 19th shortest (ceil(0.95 * 20)) is 190 s,
    // far slower than any real step here, so it heads the list.
    const tenant = ws.owner.tenant.id;
    const now = Date.now();
    for (let i = 0; i < 20; i++) {
      await inIndex(
        tenant,
        `INSERT INTO runs (id, workflow_id, workflow_key, version, status, trigger_type, created_at, updated_at)
         VALUES (?, 'wf_synthetic', 'synthetic', 1, 'succeeded', 'api', ?, ?)`,
        `run_p95_${i}`,
        now,
        now,
      );
      await inIndex(
        tenant,
        `INSERT INTO steps (run_id, step_id, type, status, attempts, started_at, finished_at, seq)
         VALUES (?, 'timed', 'action', 'succeeded', 1, ?, ?, 0)`,
        `run_p95_${i}`,
        now - 300_000,
        now - 300_000 + (i + 1) * 10_000,
      );
    }
    const { slowestSteps, totals } = (await overview()).json;
    expect(slowestSteps[0]).toEqual({
      workflow: 'synthetic',
      step: 'timed',
      count: 20,
      avgMs: 105_000,
      p95Ms: 190_000,
      maxMs: 200_000,
    });
    await inIndex(tenant, `DELETE FROM steps WHERE run_id LIKE 'run_p95_%'`);
    await inIndex(tenant, `DELETE FROM runs WHERE id LIKE 'run_p95_%'`);
    expect(totals.runs).toBe(25);
  });

  it('lists the latest failures, newest first, with message and step', async () => {
    const { latestFailures } = (await overview()).json;
    expect(latestFailures.map((f: any) => f.id)).toEqual([...failedIds].reverse());
    expect(latestFailures[0]).toMatchObject({ workflow: 'breaks', version: 1, error: { stepId: 'call' } });
    expect(latestFailures[0].error.message).toMatch(/404/);
    expect(JSON.stringify(latestFailures)).not.toContain('stack');
  });

  it('shows a tenant only its own runs', async () => {
    const theirs = (await overview('', { token: other.token })).json;
    expect(theirs.totals).toEqual({ runs: 1, succeeded: 0, failed: 1, failureRate: 1 });
    expect(theirs.latestFailures.map((f: any) => f.workflow)).toEqual(['theirs']);
    expect(theirs.slowestSteps.map((s: any) => s.workflow)).toEqual(['theirs']);
  });

  it('takes a window of 1 to 168 hours and refuses anything else', async () => {
    expect((await overview('?hours=1')).json.hours).toHaveLength(1);
    expect((await overview('?hours=168')).json.hours).toHaveLength(168);
    for (const bad of ['0', '169', '2.5', 'day']) {
      const res = await overview(`?hours=${bad}`);
      expect(res.status).toBe(400);
      expect(res.json.error.details.map((d: any) => d.path)).toEqual(['query.hours']);
    }
  });

  it('is readable by every role and by tokens with runs:read only', async () => {
    expect((await overview('', { session: await addMember(ws.owner, 'viewer') })).status).toBe(200);
    expect((await overview('', { token: await createToken(ws.owner, ['runs:read']) })).status).toBe(200);
    expect((await overview('', { token: await createToken(ws.owner, ['workflows:read']) })).status).toBe(403);
    expect((await overview('', {})).status).toBe(401);
  });
});

describe('query plans', () => {
  it.each([
    ['runs per hour', RUNS_PER_HOUR_SQL, 'runs_created_idx'],
    ['slowest steps', SLOWEST_STEPS_SQL, 'runs_created_idx'],
    ['latest failures', LATEST_FAILURES_SQL, 'runs_status_created_idx'],
  ])('%s reads the window through %s, never a whole table', async (_name, query, index) => {
    const rows = await inIndex<{ detail: string }>(ws.owner.tenant.id, `EXPLAIN QUERY PLAN ${query}`, 0);
    const text = rows.map((r) => r.detail).join('\n');
    expect(text).toContain(index);
    expect(text).not.toMatch(/SCAN (r|s|runs|steps)\b(?! USING)/);
    // Steps are reached by run, not scanned.
    if (query === SLOWEST_STEPS_SQL) expect(text).toMatch(/SEARCH s USING PRIMARY KEY \(run_id=\?\)/);
  });
});
