/** API and schedule triggers, recovery of unstarted runs, and what a run may never contain. */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { erpOrders, requests, script, uniquePath } from '../../connectors/testing/stub-client';
import worker from '../src/index';
import { call, putSecrets, waitForRun } from './helpers/api';
import { apiFlow, http, listedRuns } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

let ws: Workspace;
const auth = () => ({ token: ws.token });

beforeAll(async () => {
  ws = await workspace('Triggers Co');
});

describe('API trigger', () => {
  it('starts a run of the active version and answers 202 with its id', async () => {
    await publish(
      ws,
      apiFlow('api_flow', [
        { id: 'echo', type: 'transform', output: { got: '{{ trigger.body.n }}', v: '{{ run.version }}' } },
      ]),
    );
    const res = await call('POST', '/api/workflows/api_flow/runs', { token: ws.token, body: { payload: { n: 7 } } });
    expect(res.status).toBe(202);
    const run = await waitForRun(res.json.runId, auth());
    expect(run.triggerType).toBe('api');
    expect(run.steps[0].output).toEqual({ got: 7, v: 1 });
    // The caller's token is not part of the recorded event.
    expect(JSON.stringify(run.trigger)).not.toContain(ws.token);
  });

  it('runs the version that was active when triggered, even if another is published meanwhile', async () => {
    await publish(
      ws,
      apiFlow('versioned', [
        { id: 'd', type: 'delay', delayMs: 300, next: 'v' },
        { id: 'v', type: 'transform', output: { version: '{{ run.version }}', marker: 'one' } },
      ]),
    );
    const runId = await startRun(ws, 'versioned', {});
    await publish(
      ws,
      apiFlow('versioned', [
        { id: 'd', type: 'delay', delayMs: 0, next: 'v' },
        { id: 'v', type: 'transform', output: { marker: 'two' } },
      ]),
    );
    const run = await waitForRun(runId, auth());
    expect(run.version).toBe(1);
    expect(run.steps[1].output).toEqual({ version: 1, marker: 'one' });
  });

  it('returns the same run for a repeated Idempotency-Key', async () => {
    await publish(ws, apiFlow('idem_flow', [{ id: 'x', type: 'transform', output: {} }]));
    const a = await call('POST', '/api/workflows/idem_flow/runs', {
      token: ws.token,
      body: { payload: {} },
      headers: { 'idempotency-key': 'order-991' },
    });
    const b = await call('POST', '/api/workflows/idem_flow/runs', {
      token: ws.token,
      body: { payload: {} },
      headers: { 'idempotency-key': 'order-991' },
    });
    expect(b.json).toEqual({ runId: a.json.runId, duplicate: true });
  });

  it('refuses to run a workflow that was never published', async () => {
    await call('POST', '/api/workflows/import', {
      token: ws.token,
      body: apiFlow('draft_only', [{ id: 'x', type: 'transform', output: {} }]),
    });
    const res = await call('POST', '/api/workflows/draft_only/runs', { token: ws.token, body: { payload: {} } });
    expect(res.status).toBe(409);
  });

  it('branches on a value and builds objects with transforms', async () => {
    await publish(
      ws,
      apiFlow('branchy', [
        {
          id: 'route',
          type: 'branch',
          value: '{{ trigger.body.country }}',
          cases: [
            { equals: 'DE', next: 'de' },
            { equals: 'FR', next: 'fr' },
          ],
          default: 'other',
        },
        { id: 'de', type: 'transform', output: { greeting: 'Hallo {{ trigger.body.name }}' } },
        { id: 'fr', type: 'transform', output: { greeting: 'Bonjour {{ trigger.body.name }}' } },
        { id: 'other', type: 'transform', output: { greeting: 'Hello' } },
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'branchy', { country: 'FR', name: 'Ada' }), auth());
    expect(run.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['route', 'succeeded'],
      ['fr', 'succeeded'],
      ['de', 'skipped'],
      ['other', 'skipped'],
    ]);
    expect(run.steps[1].output).toEqual({ greeting: 'Bonjour Ada' });
  });
});

describe('schedule trigger', () => {
  it('starts one run per due slot, however often the cron fires', async () => {
    await publish(ws, {
      key: 'every_5',
      name: 'Every 5',
      trigger: { type: 'schedule', cron: '*/5 * * * *' },
      steps: [{ id: 'tick', type: 'transform', output: { at: '{{ trigger.body.scheduledAt }}' } }],
    });
    // The first slot is the next multiple of 5 minutes after publishing.
    const detail = await call('GET', '/api/workflows/every_5', auth());
    const slot = Date.parse(detail.json.schedule.active.next[0].at);
    expect(slot % 300_000).toBe(0);
    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext();
      await worker.scheduled!(
        createScheduledController({ scheduledTime: slot + i * 1000, cron: '* * * * *' }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
    }
    const off = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: slot + 60_000 }), env, off);
    await waitOnExecutionContext(off);
    const listed = await listedRuns('workflow=every_5', 1, ws.token);
    expect(listed).toHaveLength(1);
    const run = await waitForRun(listed[0].id, auth());
    expect((await call('GET', '/api/runs?workflow=every_5', auth())).json.runs).toHaveLength(1);
    expect(run.triggerType).toBe('schedule');
    expect(run.steps[0].output).toEqual({ at: new Date(slot).toISOString() });
  });
});

describe('secrets in runs', () => {
  it('never lets data in the trigger turn into a secret (template injection)', async () => {
    const path = uniquePath();
    await putSecrets(ws.owner, { CHAT_TOKEN: 'chat-token-value-8c1e' });
    await publish(
      ws,
      apiFlow('injection', [
        {
          ...http('post', `${env.STUB_URL}${path}`),
          params: {
            method: 'POST',
            url: `${env.STUB_URL}${path}`,
            headers: { Authorization: 'Bearer {{ secrets.CHAT }}' },
            json: { text: 'Note: {{ trigger.body.note }}', whole: '{{ trigger.body.note }}' },
          },
          secrets: { CHAT: { $secret: 'CHAT_TOKEN' } },
        },
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'injection', { note: '{{ secrets.CHAT }}' }), auth());
    expect(run.status).toBe('succeeded');
    const [hit] = await requests(path);
    expect(hit.headers.authorization).toBe('Bearer chat-token-value-8c1e');
    expect(hit.body).toEqual({ text: 'Note: {{ secrets.CHAT }}', whole: '{{ secrets.CHAT }}' });
  });

  it('scrubs a secret that a connector echoes back in its error', async () => {
    const leaky = 'legacy-key-that-leaks-41f7';
    await putSecrets(ws.owner, { LEAKY_ERP_KEY: leaky });
    await publish(
      ws,
      apiFlow('leaky_erp', [
        {
          id: 'order',
          type: 'action',
          connector: 'legacy_erp',
          action: 'create_order',
          params: { customer_id: 'C-1', items: [{ sku: 'A', quantity: 1 }] },
          secrets: { API_KEY: { $secret: 'LEAKY_ERP_KEY' } },
        },
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'leaky_erp', {}), auth());
    expect(run.status).toBe('failed');
    const text = JSON.stringify(run);
    for (const form of [leaky, encodeURIComponent(leaky), btoa(leaky)]) expect(text).not.toContain(form);
    expect(run.steps[0].error.message).toContain('********');
    const audit = await call('GET', `/api/audit?run=${run.id}`, auth());
    expect(JSON.stringify(audit.json)).not.toContain(leaky);
    expect(await erpOrders('', { messageId: `${run.id}.order` })).toHaveLength(0);
  });

  it('fails the step clearly when a secret was deleted after publishing', async () => {
    await putSecrets(ws.owner, { SHORT_LIVED: 'short-lived-value-1' });
    await publish(
      ws,
      apiFlow('missing_secret', [
        {
          ...http('c', `${env.STUB_URL}/http/missing`),
          params: { url: `${env.STUB_URL}/http/missing`, headers: { 'X-Key': '{{ secrets.K }}' } },
          secrets: { K: { $secret: 'SHORT_LIVED' } },
        },
      ]),
    );
    await env.DB.prepare("DELETE FROM secrets WHERE key = 'SHORT_LIVED' AND tenant_id = ?")
      .bind(ws.owner.tenant.id)
      .run();
    const run = await waitForRun(await startRun(ws, 'missing_secret', {}), auth());
    expect(run.status).toBe('failed');
    expect(run.steps[0].error.message).toMatch(/SHORT_LIVED/);
    expect(run.steps[0].error.retryable).toBe(false);
  });
});

describe('authoring tools', () => {
  it('Rule Tester evaluates JSONLogic against sample data', async () => {
    const rule = {
      and: [{ '>=': [{ var: 'trigger.body.total' }, 1000] }, { '==': [{ var: 'trigger.body.currency' }, 'EUR'] }],
    };
    const yes = await call('POST', '/api/rules/test', {
      token: ws.token,
      body: { rule, data: { trigger: { body: { total: 1500, currency: 'EUR' } } } },
    });
    expect(yes.json).toEqual({ result: true, passed: true });
    const no = await call('POST', '/api/rules/test', {
      token: ws.token,
      body: { rule, data: { trigger: { body: { total: 1500, currency: 'USD' } } } },
    });
    expect(no.json).toEqual({ result: false, passed: false });
    const bad = await call('POST', '/api/rules/test', { token: ws.token, body: { rule: { nope: [1] }, data: {} } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('rule');
  });

  it('dry-runs the draft: path taken and params each action would get, secrets masked, nothing called', async () => {
    const path = uniquePath();
    await call('POST', '/api/workflows/import', {
      token: ws.token,
      body: apiFlow('dry', [
        {
          id: 'check',
          type: 'condition',
          rule: { '>': [{ var: 'trigger.body.total' }, 10] },
          then: 'send',
          else: null,
        },
        {
          ...http('send', `${env.STUB_URL}${path}`),
          params: {
            url: `${env.STUB_URL}${path}`,
            headers: { Authorization: 'Bearer {{ secrets.T }}' },
            json: { total: '{{ trigger.body.total }}' },
          },
          secrets: { T: { $secret: 'ERP_API_KEY' } },
        },
      ]),
    });
    const res = await call('POST', '/api/workflows/dry/test', { token: ws.token, body: { payload: { total: 50 } } });
    expect(res.status).toBe(200);
    expect(res.json.path).toEqual(['check', 'send']);
    const send = res.json.steps.find((s: any) => s.id === 'send');
    expect(send.wouldCall.params).toEqual({
      url: `${env.STUB_URL}${path}`,
      headers: { Authorization: 'Bearer ********' },
      json: { total: 50 },
    });
    expect(await requests(path)).toHaveLength(0);
  });

  it('lists the connector catalog with input and output schemas', async () => {
    const res = await call('GET', '/api/connectors', { token: ws.token });
    const codes = res.json.connectors.map((c: any) => c.code);
    expect(codes).toEqual(expect.arrayContaining(['http', 'slack', 'legacy_erp']));
    const erp = res.json.connectors.find((c: any) => c.code === 'legacy_erp');
    const create = erp.actions.find((a: any) => a.name === 'create_order');
    expect(create.inputs.properties).toHaveProperty('customer_id');
    expect(create.outputs.properties).toHaveProperty('order_id');
  });

  it('pages through runs newest first', async () => {
    await publish(ws, apiFlow('paged', [{ id: 'x', type: 'transform', output: {} }]));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await startRun(ws, 'paged', { i }));
    await listedRuns('workflow=paged', 5, ws.token);
    const page1 = await call('GET', '/api/runs?workflow=paged&limit=2', auth());
    const page2 = await call('GET', `/api/runs?workflow=paged&limit=2&cursor=${page1.json.nextCursor}`, auth());
    const page3 = await call('GET', `/api/runs?workflow=paged&limit=2&cursor=${page2.json.nextCursor}`, auth());
    const seen = [...page1.json.runs, ...page2.json.runs, ...page3.json.runs].map((r: any) => r.id);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(page3.json.nextCursor).toBeNull();
    const bad = await call('GET', '/api/runs?cursor=garbage!', auth());
    expect(bad.status).toBe(400);
  });
});

describe('large outputs', () => {
  it("keeps a big output whole for later steps but caps the Explorer's copy with a marker", async () => {
    const path = uniquePath();
    const big = { rows: Array.from({ length: 3000 }, (_, i) => ({ i, text: 'x'.repeat(30) })) };
    await script(path, [{ status: 200, body: big }]);
    await publish(
      ws,
      apiFlow('big_output', [
        { ...http('fetch', `${env.STUB_URL}${path}`), next: 'count' },
        { id: 'count', type: 'transform', output: { last: '{{ steps.fetch.output.body.rows[2999].i }}' } },
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'big_output', {}), auth());
    expect(run.status).toBe('succeeded');
    const fetchStep = run.steps.find((s: any) => s.id === 'fetch');
    expect(fetchStep.output.$truncated).toBe(true);
    expect(fetchStep.output.bytes).toBeGreaterThan(64 * 1024);
    expect(fetchStep.output.preview.length).toBeLessThan(4096);
    expect(run.steps.find((s: any) => s.id === 'count').output).toEqual({ last: 2999 });
  });
});

describe('oversized params', () => {
  it('fails the step clearly instead of leaving it stuck when its params exceed a queue message', async () => {
    await publish(
      ws,
      apiFlow('huge_params', [
        {
          ...http('send', `${env.STUB_URL}/http/huge`),
          params: { url: `${env.STUB_URL}/http/huge`, json: '{{ trigger.body }}' },
        },
      ]),
    );
    const run = await waitForRun(await startRun(ws, 'huge_params', { blob: 'y'.repeat(200 * 1024) }), auth());
    expect(run.status).toBe('failed');
    expect(run.steps[0].error.code).toBe('PARAMS_TOO_LARGE');
    expect(run.steps[0].error.message).toMatch(/at most \d+/);
  });

  it('counts params in UTF-8 bytes, as the Queue does: short in characters is not small enough', async () => {
    await publish(
      ws,
      apiFlow('wide_params', [
        {
          ...http('send', `${env.STUB_URL}/http/wide`),
          params: { url: `${env.STUB_URL}/http/wide`, json: '{{ trigger.body }}' },
        },
      ]),
    );
    // 45,000 characters, 135,000 bytes: within the limit by String.length, over the Queue's 128 KB.
    const run = await waitForRun(await startRun(ws, 'wide_params', { blob: '€'.repeat(45_000) }), auth());
    expect(run.status).toBe('failed');
    expect(run.steps[0].error.code).toBe('PARAMS_TOO_LARGE');
    expect(run.steps[0].error.message).toMatch(/are 1\d{5} bytes/);
  });

  it('sends params just under the limit in bytes (multi-byte text included)', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: { ok: true } }]);
    await publish(
      ws,
      apiFlow('near_limit', [
        {
          ...http('send', `${env.STUB_URL}${path}`),
          params: { method: 'POST', url: `${env.STUB_URL}${path}`, json: '{{ trigger.body }}' },
        },
      ]),
    );
    // 36,000 x 3 bytes = 108,000 bytes: under 120 KiB with the message's envelope.
    const run = await waitForRun(await startRun(ws, 'near_limit', { blob: '€'.repeat(36_000) }), auth());
    expect(run.steps[0].error ?? null).toBeNull();
    expect(run.status).toBe('succeeded');
    const [received] = await requests(path);
    expect((received.body as { blob: string }).blob.length).toBe(36_000);
  });
});
