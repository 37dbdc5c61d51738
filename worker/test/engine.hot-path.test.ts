/**
 * The guarantees of the hot path (docs/execution.md): the run object named after the
 * delivery is the dedup record and stores the event before the 202; a report hands the
 * next attempt back claimed; caches of active versions and signing secrets follow every
 * publish, activate and rotation. Real D1, Durable Objects and Queues throughout.
 */
import {
  createExecutionContext,
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test';
import { createApp } from '../src/app';
import { beforeAll, describe, expect, it } from 'vitest';
import { requests, script, uniquePath } from '../../connectors/testing/stub-client';
import { REPORT_MARGIN_MS } from '../src/run/attempt-deadlines';
import { lastUnpickedSend } from '../src/run/run-state';
import type { Reported, RunCoordinator, RunView } from '../src/run/run-coordinator';
import type { Env } from '../src/env';
import { startDueSchedules } from '../src/triggers/due-schedules';
import { signStandardWebhook } from '../src/triggers/webhook-verify';
import { BASE, call, waitForRun } from './helpers/api';
import { deliver as deliverMessages, http, messageFor, runObject } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';
import { UNREACHABLE_RUNS } from './helpers/unreachable-runs';

const SECRET = 'whsec_aG90LXBhdGgtc2lnbmluZy1zZWNyZXQtMDAx';
const ROTATED = 'whsec_aG90LXBhdGgtcm90YXRlZC1zZWNyZXQtMDAy';
const REPLACED = 'whsec_aG90LXBhdGgtcmVwbGFjZWQtc2VjcmV0LTAz';

let ws: Workspace;
const auth = () => ({ token: ws.token });

const hookFlow = (key: string, steps: unknown[], secret = 'HOT_HOOK_SECRET') => ({
  key,
  name: key,
  trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: secret } } },
  steps,
});

async function send(hookId: string, body: unknown, opts: { id?: string; secret?: string } = {}) {
  const text = JSON.stringify(body);
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  return call('POST', `/hooks/${hookId}`, {
    rawBody: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': await signStandardWebhook(opts.secret ?? SECRET, id, ts, text),
    },
  });
}

async function putSecret(key: string, value: string) {
  const res = await call('PUT', `/api/secrets/${key}`, { token: ws.token, body: { value } });
  expect([200, 201]).toContain(res.status);
}

/** Moves every time of the step's latest attempt back, as if `ms` had passed since (its consumer died). */
async function age(runId: string, stepId: string, ms: number) {
  await runInDurableObject(
    runObject(runId) as unknown as DurableObjectStub<RunCoordinator>,
    async (instance, state) => {
      const run = (instance as unknown as { state: RunView['state'] }).state;
      const log = run.steps[stepId].attempts.at(-1)!;
      log.queuedAt -= ms;
      if (log.sentAt !== undefined) log.sentAt -= ms;
      if (log.startedAt !== undefined) log.startedAt -= ms;
      for (const d of log.deliveries ?? []) d.at -= ms;
      await state.storage.put('state', run);
    },
  );
}

/** Waits until the run object (not yet its Explorer copy) has the step running. */
async function runningInObject(runId: string, stepId: string) {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const view = (await runObject(runId).snapshot()) as unknown as RunView | null;
    if (view?.state.steps[stepId]?.status === 'running') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`step ${stepId} of ${runId} never ran`);
}

beforeAll(async () => {
  ws = await workspace('Hot Path Co');
  await putSecret('HOT_HOOK_SECRET', SECRET);
});

describe('one run per delivery: the run object is the record', () => {
  it('answers the same delivery sent twice at once, and again later, with one run and one side effect', async () => {
    const path = uniquePath();
    const { hookId } = await publish(ws, hookFlow('dup_hook', [http('call', `${env.STUB_URL}${path}`)]));
    const id = `msg_${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([send(hookId, { n: 1 }, { id }), send(hookId, { n: 1 }, { id })]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.json.runId).toBe(b.json.runId);
    expect([a.json.duplicate, b.json.duplicate].sort()).toEqual([false, true]);
    expect(a.json.runId).toMatch(/^run_[0-9a-f]{64}$/);
    const run = await waitForRun(a.json.runId, auth());
    expect(run.status).toBe('succeeded');
    const again = await send(hookId, { n: 1 }, { id });
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ runId: a.json.runId, duplicate: true });
    expect(await requests(path)).toHaveLength(1);
    const listed = await call('GET', '/api/runs?workflow=dup_hook', auth());
    expect(listed.json.runs).toHaveLength(1);
    // Nothing of the acknowledgement went to D1's old dedup table.
    const events = await env.DB.prepare('SELECT count(*) AS n FROM webhook_events WHERE tenant_id = ?')
      .bind(ws.owner.tenant.id)
      .first<{ n: number }>();
    expect(events!.n).toBe(0);
  });

  it('answers 404 for a run id that is not one, at the Explorer and at retry', async () => {
    const notOurs = `run_${'0'.repeat(64)}`;
    for (const id of ['run_nope', notOurs, 'run_ZZZZ'.padEnd(68, 'Z')]) {
      expect((await call('GET', `/api/runs/${id}`, auth())).status).toBe(404);
      const retry = await call('POST', `/api/runs/${id}/retry`, auth());
      expect(retry.status, retry.text).toBe(404);
      expect(retry.json.error.code).toBe('run_not_found');
    }
  });
});

describe('a run object that cannot be reached', () => {
  it('answers a webhook 503 with Retry-After, records nothing, and the retried delivery starts one run', async () => {
    const path = uniquePath();
    const { hookId } = await publish(ws, hookFlow('unreachable', [http('call', `${env.STUB_URL}${path}`)]));
    const id = `msg_${crypto.randomUUID()}`;
    const body = JSON.stringify({ n: 5 });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': await signStandardWebhook(SECRET, id, ts, body),
    };
    const refused = await createApp().request(
      `${BASE}/hooks/${hookId}`,
      { method: 'POST', headers, body },
      { ...env, ...UNREACHABLE_RUNS } as Env,
      createExecutionContext(),
    );
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as any).error.code).toBe('run_start_unavailable');
    // The sender retries the same delivery: one run, one call.
    const retried = await call('POST', `/hooks/${hookId}`, { rawBody: body, headers });
    expect(retried.status).toBe(202);
    expect(retried.json.duplicate).toBe(false);
    expect((await waitForRun(retried.json.runId, auth())).status).toBe('succeeded');
    expect(await requests(path)).toHaveLength(1);
  });

  it('leaves a schedule slot whose run could not start to the next minute, which starts it once', async () => {
    await publish(ws, {
      key: 'slot_retry',
      name: 'slot_retry',
      trigger: { type: 'schedule', cron: '* * * * *' },
      steps: [{ id: 'tick', type: 'transform', output: { at: '{{ trigger.body.scheduledAt }}' } }],
    });
    const row = () =>
      env.DB.prepare(
        "SELECT s.next_fire_at AS at FROM workflow_schedules s JOIN workflows w ON w.id = s.workflow_id WHERE w.key = 'slot_retry' AND w.tenant_id = ?",
      )
        .bind(ws.owner.tenant.id)
        .first<{ at: number }>();
    const slot = (await row())!.at;
    const down = await startDueSchedules({ ...env, ...UNREACHABLE_RUNS } as Env, slot);
    expect(down.started).toEqual([]);
    expect((await row())!.at).toBe(slot);
    const up = await startDueSchedules(env, slot + 5_000);
    expect(up.started).toHaveLength(1);
    expect((await row())!.at).toBe(slot + 60_000);
    const run = await waitForRun(up.started[0], auth());
    expect(run.steps[0].output).toEqual({ at: new Date(slot).toISOString() });
  });
});

describe('a report hands back the next step', () => {
  it('runs the next step in the same consumer invocation; a redelivered message of either step changes nothing', async () => {
    const path = uniquePath();
    const { hookId } = await publish(
      ws,
      hookFlow('chain', [http('a', `${env.STUB_URL}${path}/a`, { next: 'b' }), http('b', `${env.STUB_URL}${path}/b`)]),
    );
    const res = await send(hookId, { n: 2 });
    const run = await waitForRun(res.json.runId, auth());
    expect(run.status).toBe('succeeded');
    // b was continued by the consumer that reported a: one delivery, its first send, no Queue message of its own.
    const b = run.steps.find((s: any) => s.id === 'b').attemptLog[0];
    expect(b.sends).toBe(1);
    expect(b.deliveries).toHaveLength(1);
    // Both messages again, as a Queue redelivery would bring them: skipped before any side effect.
    const again = await deliverMessages('automate-steps', [
      await messageFor(res.json.runId, 'a'),
      await messageFor(res.json.runId, 'b'),
    ]);
    expect(again.result.explicitAcks).toHaveLength(2);
    expect(await requests(`${path}/a`)).toHaveLength(1);
    expect(await requests(`${path}/b`)).toHaveLength(1);
  });

  it('re-sends a handed-back step whose consumer died before executing it, with the same idempotency key', async () => {
    const path = uniquePath();
    // a answers slowly, so the test can report it first, as a consumer that then dies.
    await script(`${path}/a`, [{ status: 200, body: { ok: 'a' }, delayMs: 1500 }]);
    const { hookId } = await publish(
      ws,
      hookFlow('crash', [http('a', `${env.STUB_URL}${path}/a`, { next: 'b' }), http('b', `${env.STUB_URL}${path}/b`)]),
    );
    const runId = (await send(hookId, { n: 3 })).json.runId;
    await waitForRun(runId, auth(), (r) => r.steps.find((s: any) => s.id === 'a')?.status === 'running');
    const a = await messageFor(runId, 'a');
    const now = Date.now();
    // The dying consumer: reports a, takes b (claimed for it), and is gone before executing it.
    const { applied, next } = (await runObject(runId).report(
      a.attemptId,
      {
        ok: true,
        output: { status: 200, body: { ok: 'a' } },
        startedAt: now,
        finishedAt: now,
      },
      1,
    )) as unknown as Reported;
    expect(applied).toBe(true);
    expect(next.map((m) => m.stepId)).toEqual(['b']);
    const running = (await runObject(runId).snapshot()) as unknown as RunView;
    expect(running.state.steps.b.status).toBe('running');
    // Its deadline passes (limit plus margin); the alarm fires and re-sends b.
    await age(runId, 'b', next[0].timeoutMs! + REPORT_MARGIN_MS + 1000);
    expect(await runDurableObjectAlarm(runObject(runId) as unknown as DurableObjectStub<RunCoordinator>)).toBe(true);
    const run = await waitForRun(runId, auth());
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    const b = run.steps.find((s: any) => s.id === 'b').attemptLog[0];
    expect(b.sends).toBe(2);
    expect(b.deliveries.map((d: any) => [d.send, d.redelivery, d.reason ?? null])).toEqual([
      [1, false, null],
      [2, true, 'resent after timeout'],
    ]);
    // The dead consumer never called b: one call, with the step's stable key.
    const calls = await requests(`${path}/b`);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers['idempotency-key']).toBe(`${runId}.b`);
    // The real consumer's late report of a changed nothing.
    await new Promise((r) => setTimeout(r, 1600));
    expect(await requests(`${path}/a`)).toHaveLength(1);
    expect((await waitForRun(runId, auth())).steps.find((s: any) => s.id === 'a').output).toEqual({
      status: 200,
      body: { ok: 'a' },
    });
  }, 30_000);

  it('finishes a run whose object is evicted while each step is in flight, one side effect per step', async () => {
    const path = uniquePath();
    await script(`${path}/a`, [{ status: 200, body: { ok: 'a' }, delayMs: 400 }]);
    await script(`${path}/b`, [{ status: 200, body: { ok: 'b' }, delayMs: 400 }]);
    const { hookId } = await publish(
      ws,
      hookFlow('evict', [http('a', `${env.STUB_URL}${path}/a`, { next: 'b' }), http('b', `${env.STUB_URL}${path}/b`)]),
    );
    const runId = (await send(hookId, { n: 4 })).json.runId;
    // Evicted while a runs, then while b (handed back by a's report) runs.
    for (const step of ['a', 'b']) {
      await runningInObject(runId, step);
      await evictDurableObject(runObject(runId));
    }
    const run = await waitForRun(runId, auth());
    expect(run.status).toBe('succeeded');
    expect(await requests(`${path}/a`)).toHaveLength(1);
    expect(await requests(`${path}/b`)).toHaveLength(1);
  }, 20_000);
});

describe('a run that waits between events', () => {
  it('writes back what its index flush emptied, so a copy reloaded later does not send it again', async () => {
    await publish(ws, {
      key: 'hot_waits',
      name: 'hot_waits',
      trigger: { type: 'api' },
      steps: [{ id: 'wait', type: 'delay', delayMs: 600_000 }],
    });
    const runId = await startRun(ws, 'hot_waits', {});
    const stub = runObject(runId) as unknown as DurableObjectStub<RunCoordinator>;
    const stored = () => runInDurableObject(stub, (_i, state) => state.storage.get<RunView['state']>('state'));
    // The start's own write holds the changes its first index flush then sent.
    const first = (await stored())!;
    expect(first.status).toBe('running');
    // No event follows (the delay waits ten minutes): the emptied lists are written back on their own.
    await new Promise((r) => setTimeout(r, 2_500));
    const later = (await stored())!;
    expect(later.status).toBe('running');
    expect({ dirty: later.dirty, audit: later.audit, runDirty: later.runDirty }).toEqual({
      dirty: [],
      audit: [],
      runDirty: false,
    });
    expect(later.steps.wait.status).toBe('waiting');
  });
});

describe('a run object whose step waits in the Queue', () => {
  const held = (instance: unknown) => (instance as { resident: unknown }).resident !== null;

  it('stays in memory until a consumer claims the step, and not after the run ends', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true } }]);
    await publish(ws, {
      key: 'hot_resident',
      name: 'hot_resident',
      trigger: { type: 'api' },
      steps: [http('call', `${env.STUB_URL}${path}`)],
    });
    const runId = await startRun(ws, 'hot_resident', { n: 1 });
    expect((await waitForRun(runId, auth())).status).toBe('succeeded');
    const stub = runObject(runId) as unknown as DurableObjectStub<RunCoordinator>;
    expect(await runInDurableObject(stub, held)).toBe(false);
    // As when its step's message has just been sent again and waits in the Queue: the
    // object's next event arms the timer that keeps it from eviction (a consumer here picks
    // a fresh message up within milliseconds, so the test sets the state itself).
    const { attemptId, send } = await runInDurableObject(stub, async (instance) => {
      const run = (instance as unknown as { state: RunView['state'] }).state;
      const step = run.steps.call;
      const log = step.attempts.at(-1)!;
      run.status = 'running';
      step.status = 'queued';
      log.sends = (log.sends ?? 1) + 1;
      log.sentAt = Date.now();
      await instance.nudge();
      return { attemptId: step.attemptId!, send: log.sends };
    });
    expect(await runInDurableObject(stub, held)).toBe(true);
    // Its index flush emptied the pending lists in memory. Held, it cannot be evicted with
    // a stale copy, so they are not written back on their own (a put saved per queued run)...
    const stored = () => runInDurableObject(stub, (_i, state) => state.storage.get<RunView['state']>('state'));
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await stored())!.runDirty).toBe(true);
    // ...but with the claim, which ends the wait: the object may be evicted as any idle one.
    expect(await runObject(runId).claim(attemptId, send)).toBe(true);
    expect(await runInDurableObject(stub, held)).toBe(false);
    expect((await stored())!.runDirty).toBe(false);
    // Woken long after the send (its alarm, behind a backlog of thousands): not held again,
    // or the whole backlog would stay in memory.
    const awaitsPickupNow = (run: RunView['state']) => lastUnpickedSend(run) !== null;
    const waiting = await runInDurableObject(stub, async (instance) => {
      const run = (instance as unknown as { state: RunView['state'] }).state;
      const log = run.steps.call.attempts.at(-1)!;
      run.steps.call.status = 'queued';
      log.sends = (log.sends ?? 1) + 1;
      log.sentAt = Date.now() - 40_000;
      log.deliveries = [];
      log.startedAt = undefined;
      await instance.nudge();
      return awaitsPickupNow(run);
    });
    expect(waiting).toBe(true);
    expect(await runInDurableObject(stub, held)).toBe(false);
  });
});

describe('what a run object writes at each event', () => {
  const storedKeys = (stub: DurableObjectStub<RunCoordinator>) =>
    runInDurableObject(stub, async (_i, state) => {
      const all = await state.storage.list<Record<string, unknown>>();
      return Object.fromEntries(all);
    });

  it('writes the trigger event and definition once, apart from the progress it rewrites', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true } }]);
    await publish(ws, {
      key: 'hot_layout',
      name: 'hot_layout',
      trigger: { type: 'api' },
      steps: [http('call', `${env.STUB_URL}${path}`)],
    });
    const big = 'z'.repeat(300_000);
    const runId = await startRun(ws, 'hot_layout', { big });
    expect((await waitForRun(runId, auth())).status).toBe('succeeded');
    const stub = runObject(runId) as unknown as DurableObjectStub<RunCoordinator>;
    const stored = await storedKeys(stub);
    const input = stored.input as { trigger: { body: { big: string } }; definition: { key: string } };
    expect(input.trigger.body.big).toBe(big);
    expect(input.definition.key).toBe('hot_layout');
    // Rewritten at every event: the run's progress, without the 300 KB event.
    expect(stored.state).not.toHaveProperty('trigger');
    expect(stored.state).not.toHaveProperty('definition');
    expect(JSON.stringify(stored.state).length).toBeLessThan(10_000);
    // Reloaded from storage, the run is whole again.
    await evictDurableObject(stub);
    const view = (await runObject(runId).snapshot()) as unknown as RunView;
    expect((view.state.trigger.body as { big: string }).big).toBe(big);
    expect(view.state.status).toBe('succeeded');
  });

  it('stores the input again when an emptied object (retention purged it) starts a run once more', async () => {
    await publish(ws, {
      key: 'hot_restart',
      name: 'hot_restart',
      trigger: { type: 'api' },
      steps: [{ id: 'done', type: 'transform', output: { n: '{{ trigger.body.n }}' } }],
    });
    const runId = await startRun(ws, 'hot_restart', { n: 3 });
    expect((await waitForRun(runId, auth())).status).toBe('succeeded');
    const stub = runObject(runId);
    const { state } = (await stub.snapshot()) as unknown as RunView;
    expect(await stub.purge()).toBe(true);
    // The same instance starts a run again (the object is named after what makes a run unique).
    const init = { ...state, createdAt: Date.now() };
    await stub.start(init as unknown as Parameters<RunCoordinator['start']>[0]);
    await evictDurableObject(stub as unknown as DurableObjectStub<RunCoordinator>);
    const view = (await runObject(runId).snapshot()) as unknown as RunView;
    expect(view.state.trigger.body).toEqual({ n: 3 });
    expect(view.state.runId).toBe(runId);
  });

  it('loads a run stored before the layout (everything under state) and moves its input apart at its next event', async () => {
    await publish(ws, {
      key: 'hot_old_layout',
      name: 'hot_old_layout',
      trigger: { type: 'api' },
      steps: [
        { id: 'wait', type: 'delay', delayMs: 600_000, next: 'done' },
        { id: 'done', type: 'transform', output: { n: '{{ trigger.body.n }}' } },
      ],
    });
    const runId = await startRun(ws, 'hot_old_layout', { n: 7 });
    const stub = runObject(runId) as unknown as DurableObjectStub<RunCoordinator>;
    // Rewrite its storage as the older layout had it (one key with everything), in a fresh
    // instance with no timers of its own, then drop that instance too.
    await evictDurableObject(stub);
    await runInDurableObject(stub, async (instance, state) => {
      const run = (instance as unknown as { state: RunView['state'] }).state;
      await state.storage.delete('input');
      await state.storage.put('state', run);
    });
    await evictDurableObject(stub);
    // Its delay ends (the alarm): the run finishes with the trigger it was started with.
    await runInDurableObject(stub, async (instance, state) => {
      const run = (instance as unknown as { state: RunView['state'] }).state;
      run.steps.wait.wakeAt = Date.now() - 1;
      await state.storage.put('state', run);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    const run = await waitForRun(runId, auth());
    expect(run.status).toBe('succeeded');
    expect(run.steps.find((s: { id: string }) => s.id === 'done').output).toEqual({ n: 7 });
    const stored = await storedKeys(stub);
    expect(stored.state).not.toHaveProperty('trigger');
    expect((stored.input as { trigger: { body: unknown } }).trigger.body).toEqual({ n: 7 });
  });
});

describe('isolate caches follow every change', () => {
  const echo = (v: number) => [{ id: 'echo', type: 'transform', output: { v } }];

  it('runs the newly published, then the re-activated, version on the very next webhook', async () => {
    const { hookId } = await publish(ws, hookFlow('versions', echo(1)));
    const output = async () => {
      const res = await send(hookId, {});
      expect(res.status).toBe(202);
      return (await waitForRun(res.json.runId, auth())).steps[0].output;
    };
    expect(await output()).toEqual({ v: 1 });
    await publish(ws, hookFlow('versions', echo(2)));
    expect(await output()).toEqual({ v: 2 });
    const activate = await call('POST', '/api/workflows/versions/versions/1/activate', auth());
    expect(activate.status).toBe(200);
    expect(await output()).toEqual({ v: 1 });
  });

  it('honours a rotated signing secret on the very next webhook, the old one per the window, a replaced one not', async () => {
    await putSecret('HOT_ROTATING', SECRET);
    const { hookId } = await publish(ws, hookFlow('rotating', echo(1), 'HOT_ROTATING'));
    // Read and cached by this isolate.
    expect((await send(hookId, {}, { secret: SECRET })).status).toBe(202);
    expect((await send(hookId, {}, { secret: ROTATED })).status).toBe(401);
    const rotated = await call('POST', '/api/secrets/HOT_ROTATING/rotate', {
      token: ws.token,
      body: { value: ROTATED },
    });
    expect(rotated.status).toBe(200);
    expect((await send(hookId, {}, { secret: ROTATED })).status).toBe(202);
    // Within 24 hours of a rotation the previous value still verifies.
    expect((await send(hookId, {}, { secret: SECRET })).status).toBe(202);
    // A plain replacement keeps no previous value: the old ones stop at once.
    await putSecret('HOT_ROTATING', REPLACED);
    expect((await send(hookId, {}, { secret: REPLACED })).status).toBe(202);
    expect((await send(hookId, {}, { secret: ROTATED })).status).toBe(401);
    expect((await send(hookId, {}, { secret: SECRET })).status).toBe(401);
  });
});
