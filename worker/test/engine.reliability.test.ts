/**
 * Where workflow tools lose users: retries, permanent failures, redelivered messages,
 * evicted run objects, durable delays, retrying from the failed step, dead letters.
 */
import { env, evictDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { requests, script, uniquePath } from '../../connectors/testing/stub-client';
import { waitForRun, call } from './helpers/api';
import { apiFlow, deliver, http, messageFor, runObject } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

let ws: Workspace;
const auth = () => ({ token: ws.token });

beforeAll(async () => {
  ws = await workspace('Reliability Co');
});

describe('retries', () => {
  it('retries a 503 twice and succeeds on the third attempt, recording all three', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 503, body: 'busy' },
      { status: 503, body: 'busy' },
      { status: 200, body: { ok: true } },
    ]);
    await publish(
      ws,
      apiFlow('retry_503', [
        http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 3, backoff: 'constant', initialDelayMs: 20 } }),
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'retry_503', {}), auth());
    expect(run.status).toBe('succeeded');
    const step = run.steps[0];
    expect(step.attempts).toBe(3);
    expect(step.attemptLog.map((a: any) => a.outcome)).toEqual(['retrying', 'retrying', 'succeeded']);
    expect(step.attemptLog[0].error.retryable).toBe(true);
    expect(step.output.status).toBe(200);
    const hits = await requests(path);
    expect(hits).toHaveLength(3);
    // One idempotency key for every attempt of the step.
    expect(new Set(hits.map((h) => h.headers['idempotency-key'])).size).toBe(1);
    const audit = await call('GET', `/api/audit?run=${run.id}&action=step.attempt`, auth());
    expect(audit.json.entries.map((e: any) => e.context.outcome).sort()).toEqual(['retrying', 'retrying', 'succeeded']);
  });

  it('honours Retry-After on a 429', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, body: { ok: true } },
    ]);
    await publish(
      ws,
      apiFlow('retry_429', [http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 2, initialDelayMs: 10 } })]),
    );
    const run = await waitForRun(await startRun(ws, 'retry_429', {}), auth());
    expect(run.status).toBe('succeeded');
    const [first, second] = run.steps[0].attemptLog;
    expect(first.nextAttemptAt - first.finishedAt).toBeGreaterThanOrEqual(1000);
    expect(second.startedAt).toBeGreaterThanOrEqual(first.nextAttemptAt);
  });

  it('fails the step, saying why, when a Retry-After asks for longer than a day (it does not park the run for decades)', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 503, headers: { 'retry-after': '999999999' } },
      { status: 200, body: { ok: true } },
    ]);
    await publish(
      ws,
      apiFlow('retry_forever', [
        http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 5, initialDelayMs: 10 } }),
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'retry_forever', {}), auth());
    expect(run.status).toBe('failed');
    expect(run.steps[0].attempts).toBe(1);
    expect(run.steps[0].error.message).toMatch(
      /not retried: the remote side asked to wait 277778 hours, more than the 24 a step waits/,
    );
    expect(await requests(path)).toHaveLength(1);
  });

  it('waits for a Retry-After of up to a day', async () => {
    const path = uniquePath();
    await script(path, [{ status: 429, headers: { 'retry-after': '86400' } }]);
    await publish(
      ws,
      apiFlow('retry_day', [http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 2, initialDelayMs: 10 } })]),
    );
    const runId = await startRun(ws, 'retry_day', {});
    let step: any;
    for (let i = 0; i < 100 && step?.status !== 'waiting'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      step = (await call('GET', `/api/runs/${runId}`, auth())).json.steps?.[0];
    }
    expect(step.status).toBe('waiting');
    const [first] = step.attemptLog;
    expect(first.nextAttemptAt - first.finishedAt).toBeGreaterThanOrEqual(86_400_000);
  });

  it('fails the run at once on a 400, with message and stack for the Explorer', async () => {
    const path = uniquePath();
    await script(path, [{ status: 400, body: { error: 'customer_id is required' } }]);
    await publish(
      ws,
      apiFlow('fails_400', [
        http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 5, initialDelayMs: 10 }, next: 'after' }),
        http('after', `${env.STUB_URL}${path}/after`),
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'fails_400', {}), auth());
    expect(run.status).toBe('failed');
    expect(run.error.message).toContain('call');
    const [call1, after] = run.steps;
    expect(call1.status).toBe('failed');
    expect(call1.attempts).toBe(1);
    expect(call1.error.retryable).toBe(false);
    expect(call1.error.message).toContain('400');
    expect(call1.error.message).toContain('customer_id is required');
    expect(call1.error.stack).toMatch(/ConnectorError/);
    expect(after.status).toBe('skipped');
    expect(await requests(`${path}/after`)).toHaveLength(0);
    const list = await call('GET', '/api/runs?status=failed&workflow=fails_400', auth());
    expect(list.json.runs.map((r: any) => r.id)).toEqual([run.id]);
  });

  it('gives up after maxAttempts and says so', async () => {
    const path = uniquePath();
    await script(path, [{ status: 502 }], 'repeat-last');
    await publish(
      ws,
      apiFlow('gives_up', [http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 2, initialDelayMs: 10 } })]),
    );
    const run = await waitForRun(await startRun(ws, 'gives_up', {}), auth());
    expect(run.status).toBe('failed');
    expect(run.steps[0].attempts).toBe(2);
    expect(run.steps[0].error.message).toContain('gave up after 2 attempts');
  });
});

describe('at-least-once delivery without double effects', () => {
  it('skips a redelivered message whose attempt already reported: no second call, no second advance', async () => {
    const path = uniquePath();
    await publish(
      ws,
      apiFlow('redeliver', [
        http('call', `${env.STUB_URL}${path}`, { next: 'after' }),
        http('after', `${env.STUB_URL}${path}/after`),
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'redeliver', {}), auth());
    expect(run.status).toBe('succeeded');
    // The consumer ran, reported, then "crashed" before its ack: the Queue delivers again.
    const { result } = await deliver(
      'automate-steps',
      [await messageFor(run.id, 'call'), await messageFor(run.id, 'after')],
      2,
    );
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toHaveLength(0);
    expect(await requests(path)).toHaveLength(1);
    expect(await requests(`${path}/after`)).toHaveLength(1);
    const again = await waitForRun(run.id, auth());
    expect(again.steps.map((s: any) => s.attempts)).toEqual([1, 1]);
  });

  it('re-executes a message redelivered mid-execution with the same idempotency key, and advances once', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 200, body: { slow: true }, delayMs: 700 },
      { status: 200, body: { slow: true }, delayMs: 100 },
    ]);
    await publish(
      ws,
      apiFlow('mid_flight', [
        http('call', `${env.STUB_URL}${path}`, { next: 'after' }),
        http('after', `${env.STUB_URL}${path}/after`),
      ]),
    );
    const runId = await startRun(ws, 'mid_flight', {});
    await waitForRun(runId, auth(), (r) => r.steps[0]?.status === 'running');
    // The first consumer is still inside the call (its fate unknown): a second delivery runs it again.
    await deliver('automate-steps', [await messageFor(runId, 'call')], 2);
    const run = await waitForRun(runId, auth());
    expect(run.status).toBe('succeeded');
    const hits = await requests(path);
    expect(hits).toHaveLength(2);
    expect(hits[0].headers['idempotency-key']).toBe(hits[1].headers['idempotency-key']);
    expect(run.steps[0].attemptLog).toHaveLength(1);
    expect(await requests(`${path}/after`)).toHaveLength(1);
  });

  it('drops a malformed message instead of retrying it forever', async () => {
    const { result } = await deliver('automate-steps', [{ nonsense: true } as never]);
    expect(result.explicitAcks).toHaveLength(1);
  });
});

describe('durability of the run object', () => {
  it('finishes a run whose object was evicted while a step was in flight', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: 1 }, delayMs: 500 }]);
    await publish(
      ws,
      apiFlow('evicted', [
        http('call', `${env.STUB_URL}${path}`, { next: 'after' }),
        http('after', `${env.STUB_URL}${path}/after`),
      ]),
    );
    const runId = await startRun(ws, 'evicted', {});
    await waitForRun(runId, auth(), (r) => r.steps[0]?.status === 'running');
    await evictDurableObject(runObject(runId));
    const run = await waitForRun(runId, auth());
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded']);
  });

  it("waits out a delay step on the object's alarm, across an eviction", async () => {
    await publish(
      ws,
      apiFlow('delayed', [
        { id: 'before', type: 'transform', output: { at: '{{ run.startedAt }}' }, next: 'wait' },
        { id: 'wait', type: 'delay', delayMs: 1000, next: 'after' },
        { id: 'after', type: 'transform', output: { done: true, before: '{{ steps.before.output.at }}' } },
      ]),
    );
    const runId = await startRun(ws, 'delayed', {});
    const waiting = await waitForRun(
      runId,
      auth(),
      (r) => r.steps.find((s: any) => s.id === 'wait')?.status === 'waiting',
    );
    expect(waiting.status).toBe('running');
    expect(waiting.steps.find((s: any) => s.id === 'wait').input.until).toMatch(/^\d{4}-/);
    await evictDurableObject(runObject(runId));
    const run = await waitForRun(runId, auth());
    expect(run.status).toBe('succeeded');
    const wait = run.steps.find((s: any) => s.id === 'wait');
    expect(wait.output.waitedMs).toBeGreaterThanOrEqual(1000);
    expect(run.steps.find((s: any) => s.id === 'after').output).toEqual({ done: true, before: run.startedAt });
  });
});

describe('retry from the failed step', () => {
  it("re-runs from the failed step with the earlier steps' outputs", async () => {
    const path = uniquePath();
    await script(path, [{ status: 400, body: 'ERP said no' }]);
    await publish(
      ws,
      apiFlow('retry_from', [
        { id: 'prep', type: 'transform', output: { madeBy: '{{ run.id }}' }, next: 'call' },
        http('call', `${env.STUB_URL}${path}`, { next: 'after' }),
        http('after', `${env.STUB_URL}${path}/after`),
      ]),
    );
    const failed = await waitForRun(await startRun(ws, 'retry_from', { n: 1 }), auth());
    expect(failed.status).toBe('failed');
    const res = await call('POST', `/api/runs/${failed.id}/retry`, auth());
    expect(res.status).toBe(202);
    const run = await waitForRun(res.json.runId, auth());
    expect(run.status).toBe('succeeded');
    expect(run.retryOf).toBe(failed.id);
    const prep = run.steps.find((s: any) => s.id === 'prep');
    // Reused, not re-run: the output still names the run that made it.
    expect(prep.output).toEqual({ madeBy: failed.id });
    expect(run.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['prep', 'succeeded'],
      ['call', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    expect(await requests(path)).toHaveLength(2);
    expect(run.trigger.body).toEqual({ n: 1 });
  });

  it('refuses to retry a run that did not fail', async () => {
    await publish(ws, apiFlow('ok_flow', [{ id: 'x', type: 'transform', output: {} }]));
    const run = await waitForRun(await startRun(ws, 'ok_flow', {}), auth());
    const res = await call('POST', `/api/runs/${run.id}/retry`, auth());
    expect(res.status).toBe(409);
  });
});

describe('dead letters', () => {
  it('ends the run failed with the reason when its step message is dead-lettered', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, delayMs: 1500 }]);
    await publish(ws, apiFlow('dead_letter', [http('call', `${env.STUB_URL}${path}`)]));
    const runId = await startRun(ws, 'dead_letter', {});
    await waitForRun(runId, auth(), (r) => r.steps[0]?.status === 'running');
    const msg = await messageFor(runId, 'call');
    const { result } = await deliver('automate-steps-dlq', [msg], 6);
    expect(result.explicitAcks).toHaveLength(1);
    const run = await waitForRun(runId, auth());
    expect(run.status).toBe('failed');
    expect(run.steps[0].error.message).toContain('dead-lettered');
    expect(run.steps[0].error.code).toBe('DEAD_LETTERED');
  });
});
