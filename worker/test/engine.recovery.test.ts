/**
 * Lost attempts come back within their own time limit, and repeats are on the record:
 * the consumer enforces each attempt's limit, the run object re-sends an attempt past
 * its deadline (on its alarm or the sweeper's nudge), and every delivery a consumer
 * executes is in the attempt's log, a repeated one marked as a redelivery.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ActionSpec, ConnectorAdapter, register, type ExecutionContext } from '../../connectors';
import { requests, script, uniquePath } from '../../connectors/testing/stub-client';
import { REPORT_MARGIN_MS, attemptDeadline } from '../src/run/attempt-deadlines';
import type { RunCoordinator, RunView } from '../src/run/run-coordinator';
import type { AttemptLog } from '../src/run/run-state';
import { executeAttempt } from '../src/run/step-consumer';
import type { StepMessage } from '../src/run/step-message';
import { stalledRuns } from '../src/run-index/index-queries';
import type { RunIndex } from '../src/run-index/run-index';
import { runIndex } from '../src/run-index/run-index-stub';
import { waitForRun } from './helpers/api';
import { apiFlow, deliver, http, messageFor, runObject } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

let ws: Workspace;
const auth = () => ({ token: ws.token });
const isRunning = (stepId: string) => (r: any) => r.steps.find((s: any) => s.id === stepId)?.status === 'running';

beforeAll(async () => {
  ws = await workspace('Recovery Co');
});

/** The run object's own view of a step's latest attempt. */
async function attemptOf(runId: string, stepId: string): Promise<AttemptLog> {
  const view = (await runObject(runId).snapshot()) as unknown as RunView;
  const attempts = view.state.steps[stepId].attempts;
  return attempts[attempts.length - 1];
}

/** Moves every time of the step's latest attempt `ms` into the past, as if the stack had been down that long. */
async function age(runId: string, stepId: string, ms: number) {
  await runInDurableObject(runObject(runId), async (instance: RunCoordinator) => {
    const state = (instance as unknown as { state: RunView['state'] }).state;
    const log = state.steps[stepId].attempts.at(-1)!;
    log.queuedAt -= ms;
    if (log.sentAt !== undefined) log.sentAt -= ms;
    if (log.startedAt !== undefined) log.startedAt -= ms;
    for (const d of log.deliveries ?? []) d.at -= ms;
  });
}

describe('time limit per attempt', () => {
  it("records the action's limit on the attempt and sends it to the consumer (http: its own timeoutMs)", async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true }, delayMs: 3000 }]);
    await publish(
      ws,
      apiFlow('limit_http', [
        {
          ...http('call', `${env.STUB_URL}${path}`),
          params: { method: 'POST', url: `${env.STUB_URL}${path}`, timeoutMs: 300 },
        },
      ]),
    );
    const t0 = Date.now();
    const run = await waitForRun(await startRun(ws, 'limit_http', {}), auth());
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(run.status).toBe('failed');
    expect(run.steps[0].error.code).toBe('TIMEOUT');
    expect(run.steps[0].error.retryable).toBe(true);
    expect(run.steps[0].attemptLog[0].timeoutMs).toBe(300);
  });

  it('uses the 30 s default for actions that declare no limit', async () => {
    await publish(ws, apiFlow('limit_default', [http('call', `${env.STUB_URL}${uniquePath()}`)]));
    const run = await waitForRun(await startRun(ws, 'limit_default', {}), auth());
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    // http.request's timeoutMs param defaults to 30 s too; the step has none.
    expect(run.steps[0].attemptLog[0].timeoutMs).toBe(30_000);
  });

  const hanging: { signal?: AbortSignal } = {};
  beforeAll(() => {
    class Hanging extends ConnectorAdapter {
      readonly code = 'test_hanging';
      readonly name = 'Hangs';
      readonly description = 'Never answers and ignores the abort signal.';
      readonly actions = {
        wait: ActionSpec({ description: 'Wait forever', inputs: z.object({}), outputs: z.object({}) }),
      };
      async execute(_action: string, _params: unknown, ctx: ExecutionContext) {
        hanging.signal = ctx.signal;
        return new Promise(() => {});
      }
    }
    register(Hanging);
  });

  const message = (over: Partial<StepMessage>): StepMessage => ({
    v: 1,
    runId: 'run_limit',
    tenantId: 'tenant_none',
    tenantSlug: 'none',
    stepId: 'call',
    attempt: 1,
    attemptId: 'run_limit:call:1',
    connector: 'test_hanging',
    action: 'wait',
    params: {},
    secrets: {},
    idempotencyKey: 'run_limit.call',
    secretNonce: 'n',
    ...over,
  });

  it('gives up on a connector that ignores the abort signal shortly after the limit', async () => {
    const t0 = Date.now();
    const result = await executeAttempt(env, message({ timeoutMs: 200 }));
    const took = Date.now() - t0;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('TIMEOUT');
    expect(result.error.retryable).toBe(true);
    expect(result.error.message).toContain('200 ms');
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(5000);
    expect(hanging.signal?.aborted).toBe(true);
  });

  it("aborts a connector's call when the step's limit is shorter than the call's own timeout", async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true }, delayMs: 3000 }]);
    const t0 = Date.now();
    const result = await executeAttempt(
      env,
      message({
        connector: 'http',
        action: 'request',
        params: { url: `${env.STUB_URL}${path}`, timeoutMs: 20_000 },
        timeoutMs: 300,
      }),
    );
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('TIMEOUT');
    expect(result.error.message).toContain("step's time limit");
  });
});

describe('deadlines drive the alarm', () => {
  it("sets the object's alarm to the running attempt's deadline: its delivery plus its limit plus the margin", async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true }, delayMs: 1500 }]);
    await publish(
      ws,
      apiFlow('alarm_deadline', [
        {
          ...http('call', `${env.STUB_URL}${path}`),
          params: { method: 'POST', url: `${env.STUB_URL}${path}`, timeoutMs: 4000 },
        },
      ]),
    );
    const runId = await startRun(ws, 'alarm_deadline', {});
    await waitForRun(runId, auth(), isRunning('call'));
    const log = await attemptOf(runId, 'call');
    const alarm = await runInDurableObject(runObject(runId), (_i, state) => state.storage.getAlarm());
    expect(log.deliveries).toHaveLength(1);
    expect(alarm).toBe(log.deliveries![0].at + 4000 + REPORT_MARGIN_MS);
    expect(attemptDeadline(log)).toBe(alarm);
    expect((await waitForRun(runId, auth())).status).toBe('succeeded');
    expect(await runInDurableObject(runObject(runId), (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe('every delivery is on the record', () => {
  it('records a second delivery of the same message as a queue redelivery, in D1 for the Explorer', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 200, body: { n: 1 }, delayMs: 800 },
      { status: 200, body: { n: 2 }, delayMs: 100 },
    ]);
    await publish(ws, apiFlow('queue_redelivery', [http('call', `${env.STUB_URL}${path}`)]));
    const runId = await startRun(ws, 'queue_redelivery', {});
    await waitForRun(runId, auth(), isRunning('call'));
    await deliver('automate-steps', [await messageFor(runId, 'call')], 2);
    const run = await waitForRun(runId, auth());
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    const [attempt] = run.steps[0].attemptLog;
    expect(run.steps[0].attemptLog).toHaveLength(1);
    expect(attempt.deliveries).toHaveLength(2);
    expect(attempt.deliveries[0]).toMatchObject({ send: 1, redelivery: false });
    expect(attempt.deliveries[1]).toMatchObject({ send: 1, redelivery: true, reason: 'queue redelivery' });
    const hits = await requests(path);
    expect(hits).toHaveLength(2);
    expect(hits[0].headers['idempotency-key']).toBe(hits[1].headers['idempotency-key']);
  });

  it('skips a re-sent copy that arrives while the first delivery is still within its limit', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true }, delayMs: 1000 }]);
    await publish(ws, apiFlow('copy_in_limit', [http('call', `${env.STUB_URL}${path}`)]));
    const runId = await startRun(ws, 'copy_in_limit', {});
    await waitForRun(runId, auth(), isRunning('call'));
    const copy = { ...(await messageFor(runId, 'call')), send: 2 };
    const { result } = await deliver('automate-steps', [copy]);
    expect(result.explicitAcks).toHaveLength(1);
    const run = await waitForRun(runId, auth());
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    expect(await requests(path)).toHaveLength(1);
    expect(run.steps[0].attemptLog[0].deliveries).toHaveLength(1);
  });
});

describe("the sweeper's nudge", () => {
  it('re-sends an attempt whose consumer went silent past its deadline; the repeat is marked and applied once', async () => {
    const path = uniquePath();
    // The first call is "lost" with its consumer (it answers late); the re-sent one answers at once.
    await script(path, [
      { status: 200, body: { from: 'original' }, delayMs: 6000 },
      { status: 200, body: { from: 'resent' } },
    ]);
    await publish(
      ws,
      apiFlow('nudged', [
        {
          // A retry only so that a flaky local connection cannot fail the run; attempt 1 is the subject.
          ...http('call', `${env.STUB_URL}${path}`, { next: 'after', retry: { maxAttempts: 3, initialDelayMs: 10 } }),
          params: { method: 'POST', url: `${env.STUB_URL}${path}`, timeoutMs: 10_000 },
        },
        http('after', `${env.STUB_URL}${path}/after`),
      ]),
    );
    const runId = await startRun(ws, 'nudged', {});
    await waitForRun(runId, auth(), isRunning('call'));
    // As after a crash: the claim is older than the attempt's limit plus the margin.
    await age(runId, 'call', 10_000 + REPORT_MARGIN_MS + 1000);
    // The tenant's run index does the sweep on its alarm: one round, two minutes on.
    const swept = await runIndex(env, ws.owner.tenant.id).upkeep(Date.now() + 2 * 60_000);
    expect(swept.nudged).toBeGreaterThanOrEqual(1);
    expect((await attemptOf(runId, 'call')).sends).toBe(2);
    // Locally the Queue hands out one batch at a time, and the original's batch is still
    // busy: deliver the re-sent copy as the Queue will (its own copy then finds the attempt done).
    const resent = await messageFor(runId, 'call');
    expect(resent.send).toBe(2);
    await deliver('automate-steps', [resent]);
    const run = await waitForRun(runId, auth(), undefined, 15_000);
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    const call = run.steps.find((s: any) => s.id === 'call');
    const [attempt] = call.attemptLog;
    expect(attempt.sends).toBe(2);
    expect(attempt.deliveries.map((d: any) => [d.send, d.redelivery, d.reason ?? null])).toEqual([
      [1, false, null],
      [2, true, 'resent after timeout'],
    ]);
    expect(call.output.body.from).not.toBe('original');
    // Wait for the late original too: its report must change nothing.
    await new Promise((r) => setTimeout(r, 6000));
    const hits = await requests(path);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hits.map((h) => h.headers['idempotency-key'])).size).toBe(1);
    expect(await requests(`${path}/after`)).toHaveLength(1);
    const again = await waitForRun(runId, auth());
    expect(again.steps.find((s: any) => s.id === 'call').output).toEqual(call.output);
  }, 20_000);

  it('asks the Queue at a pickup deadline and re-sends a message it no longer holds', async () => {
    const path = uniquePath();
    await publish(
      ws,
      apiFlow('unpicked', [
        { id: 'wait', type: 'delay', delayMs: 600_000, next: 'call' },
        http('call', `${env.STUB_URL}${path}`),
      ]),
    );
    const runId = await startRun(ws, 'unpicked', {});
    await waitForRun(runId, auth(), (r: any) => r.steps.find((s: any) => s.id === 'wait')?.status === 'waiting');
    // As if the delay had ended and the call's message had been sent a minute ago and lost
    // (a local restart drops the in-memory Queue): nothing holds it now.
    await runInDurableObject(runObject(runId), async (instance: RunCoordinator) => {
      const inner = instance as unknown as { state: RunView['state']; outputs: RunView['outputs'] };
      const { steps } = inner.state;
      const sentAt = Date.now() - 61_000;
      Object.assign(steps.wait, { status: 'succeeded', finishedAt: sentAt, wakeAt: undefined });
      inner.outputs.wait = { waitedMs: 0 };
      const attemptId = `${runId}:call:1`;
      Object.assign(steps.call, {
        status: 'queued',
        attempt: 1,
        attemptId,
        seq: ++inner.state.seq,
        attempts: [{ n: 1, attemptId, queuedAt: sentAt, sentAt, sends: 1, timeoutMs: 30_000 }],
      });
    });
    await runObject(runId).nudge();
    const run = await waitForRun(runId, auth());
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    const [attempt] = run.steps.find((s: any) => s.id === 'call').attemptLog;
    expect(attempt.sends).toBe(2);
    expect(attempt.backlogSeenAt).toBeUndefined();
    expect(attempt.deliveries.map((d: any) => [d.send, d.redelivery])).toEqual([[2, false]]);
    expect(await requests(path)).toHaveLength(1);
  });

  it('re-sends nothing for an attempt still within its deadline', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true }, delayMs: 1500 }]);
    await publish(ws, apiFlow('nudged_early', [http('call', `${env.STUB_URL}${path}`)]));
    const runId = await startRun(ws, 'nudged_early', {});
    await waitForRun(runId, auth(), isRunning('call'));
    await runObject(runId).nudge();
    const run = await waitForRun(runId, auth());
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.steps[0].attemptLog[0].sends).toBe(1);
    expect(await requests(path)).toHaveLength(1);
  }, 20_000);

  it('lists runs with an attempt in flight after a quiet minute, before runs that only wait', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true }, delayMs: 3000 }]);
    await publish(ws, apiFlow('suspect_inflight', [http('call', `${env.STUB_URL}${path}`)]));
    await publish(
      ws,
      apiFlow('suspect_waiting', [
        { id: 'wait', type: 'delay', delayMs: 60_000, next: 'done' },
        { id: 'done', type: 'transform', output: {} },
      ]),
    );
    const inFlight = await startRun(ws, 'suspect_inflight', {});
    const waiting = await startRun(ws, 'suspect_waiting', {});
    await waitForRun(inFlight, auth(), isRunning('call'));
    await waitForRun(waiting, auth(), (r) => r.steps.find((s: any) => s.id === 'wait')?.status === 'waiting');
    const ids = (now: number) =>
      runInDurableObject(runIndex(env, ws.owner.tenant.id), (_i: RunIndex, state) =>
        stalledRuns(state.storage.sql, now, 1000),
      );
    const inTwoMinutes = await ids(Date.now() + 2 * 60_000);
    expect(inTwoMinutes).toContain(inFlight);
    expect(inTwoMinutes).not.toContain(waiting);
    const inTenMinutes = await ids(Date.now() + 10 * 60_000);
    expect(inTenMinutes).toContain(waiting);
    expect(inTenMinutes.indexOf(inFlight)).toBeLessThan(inTenMinutes.indexOf(waiting));
    await waitForRun(inFlight, auth());
  });
});
