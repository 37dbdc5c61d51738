/** The seed's example end to end: a signed Standard Webhooks delivery through to a succeeded run. */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import orderFlow from '../../workflows/order_flow.json';
import { erpOrders, requests, uniquePath } from '../../connectors/testing/stub-client';
import { signStandardWebhook } from '../src/triggers/webhook-verify';
import type { RunView } from '../src/run/run-coordinator';
import { call, ORDER_FLOW_SECRETS, waitForRun } from './helpers/api';
import { runObject } from './helpers/engine';
import { indexCount } from './helpers/run-index';
import { publish, workspace, type Workspace } from './helpers/tenant';

let ws: Workspace;
let hookId: string;
let salesPath: string;

const order = (total: number, id = crypto.randomUUID()) => ({
  id,
  total,
  customer: { id: 'C-42' },
  items: [{ sku: 'SKU-1', quantity: 2, price: 600 }],
});

async function deliver(
  body: unknown,
  opts: { id?: string; timestamp?: number; secret?: string; signature?: string } = {},
) {
  const text = JSON.stringify(body);
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const signature =
    opts.signature ?? (await signStandardWebhook(opts.secret ?? ORDER_FLOW_SECRETS.SHOP_WEBHOOK_SECRET, id, ts, text));
  return call('POST', `/hooks/${hookId}`, {
    rawBody: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signature,
    },
  });
}

beforeAll(async () => {
  ws = await workspace('Webhook Shop');
  salesPath = uniquePath('/http');
  // The example file unchanged but for where the sales channel lives.
  ({ hookId } = await publish(ws, { ...orderFlow, vars: { sales_hook_url: `${env.STUB_URL}${salesPath}` } }));
});

describe('signed webhook', () => {
  it('runs the high value path to success: ERP order created, sales told, secrets filled', async () => {
    const res = await deliver(order(1500));
    expect(res.status).toBe(202);
    const run = await waitForRun(res.json.runId, { token: ws.token });
    expect(run.status).toBe('succeeded');
    expect(run.version).toBe(1);
    expect(run.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['is_high_value', 'succeeded'],
      ['create_erp_order', 'succeeded'],
      ['notify_sales', 'succeeded'],
    ]);
    const erp = run.steps[1];
    expect(erp.output.order_id).toMatch(/^ERP-\d+$/);
    // The Explorer shows the reference, never the value.
    expect(erp.input.secrets).toEqual({ API_KEY: { $secret: 'ERP_API_KEY' } });
    const orders = await erpOrders('', { messageId: `${run.id}.create_erp_order` });
    expect(orders).toHaveLength(1);
    expect(orders[0].customerId).toBe('C-42');

    const sales = await requests(salesPath);
    expect(sales).toHaveLength(1);
    expect(sales[0].headers.authorization).toBe(`Bearer ${ORDER_FLOW_SECRETS.SALES_HOOK_TOKEN}`);
    expect(sales[0].headers['idempotency-key']).toBe(`${run.id}.notify_sales`);
    expect(sales[0].body).toEqual({ text: `High value order ${erp.output.order_id} for 1500` });
    expect(run.steps[2].input.params.headers.Authorization).toBe('Bearer {{ secrets.SALES_TOKEN }}');
    expect(JSON.stringify(run)).not.toContain(ORDER_FLOW_SECRETS.SALES_HOOK_TOKEN);
    expect(JSON.stringify(run)).not.toContain(ORDER_FLOW_SECRETS.ERP_API_KEY);
  });

  it('ends a low value order after the condition, calling nothing', async () => {
    const res = await deliver(order(20));
    const run = await waitForRun(res.json.runId, { token: ws.token });
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['is_high_value', 'succeeded'],
      ['create_erp_order', 'skipped'],
      ['notify_sales', 'skipped'],
    ]);
    expect(run.steps[0].output).toMatchObject({ passed: false, next: null });
  });

  it('answers a repeated delivery with the same run and starts nothing', async () => {
    const body = order(2000);
    const first = await deliver(body, { id: 'msg_repeat_1' });
    const again = await deliver(body, { id: 'msg_repeat_1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ runId: first.json.runId, duplicate: true });
    await waitForRun(first.json.runId, { token: ws.token });
    // The Explorer (the tenant's run index) knows one run of that delivery.
    expect(
      await indexCount(ws.owner.tenant.id, "SELECT count(*) AS n FROM runs WHERE trigger_ref = 'msg_repeat_1'"),
    ).toBe(1);
    expect(await erpOrders('', { messageId: `${first.json.runId}.create_erp_order` })).toHaveLength(1);
  });

  it('records the event before answering: the run object holds the body and headers', async () => {
    const res = await deliver(order(5, 'ord-recorded'));
    // Read at once after the 202: the run object (its dedup record too) stored the event before answering.
    const view = (await runObject(res.json.runId).snapshot()) as unknown as RunView;
    expect(view.state.trigger.body).toMatchObject({ id: 'ord-recorded' });
    expect(view.state.trigger.headers['webhook-id']).toMatch(/^msg_/);
    // The Explorer's copy follows from the object.
    const run = await waitForRun(res.json.runId, { token: ws.token });
    expect(run.trigger.body.id).toBe('ord-recorded');
  });
});

describe('refused deliveries', () => {
  const cases: [string, Parameters<typeof deliver>[1]][] = [
    ['a wrong signature', { secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['a missing signature', { signature: '' }],
    ['a timestamp 6 minutes old', { timestamp: Math.floor(Date.now() / 1000) - 360 }],
    ['a timestamp 6 minutes ahead', { timestamp: Math.floor(Date.now() / 1000) + 360 }],
  ];
  it.each(cases)('refuses %s with 401, starts no run, and audits it', async (_name, opts) => {
    const runCount = () => indexCount(ws.owner.tenant.id, 'SELECT count(*) AS n FROM runs');
    const before = await runCount();
    const res = await deliver(order(5000), opts);
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('invalid_signature');
    expect(await runCount()).toBe(before);
    const audit = await call('GET', '/api/audit?action=webhook.rejected', { token: ws.token });
    expect(audit.json.entries.length).toBeGreaterThan(0);
    expect(audit.json.entries[0].targetId).toBe('order_flow');
  });

  it('refuses a tampered body', async () => {
    const text = JSON.stringify(order(10));
    const id = 'msg_tamper';
    const ts = Math.floor(Date.now() / 1000);
    const sig = await signStandardWebhook(ORDER_FLOW_SECRETS.SHOP_WEBHOOK_SECRET, id, ts, text);
    const res = await call('POST', `/hooks/${hookId}`, {
      rawBody: text.replace('10', '10000'),
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': sig,
      },
    });
    expect(res.status).toBe(401);
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const res = await deliver({ pad: 'x'.repeat(1024 * 1024 + 10) });
    expect(res.status).toBe(413);
  });

  it('answers 404 to an unknown hook id', async () => {
    const res = await call('POST', '/hooks/hk_doesnotexistdoesnotexist00', { body: {} });
    expect(res.status).toBe(404);
  });

  it('stops answering on the old URL once the hook id is regenerated', async () => {
    const ws2 = await workspace();
    const { hookId: old } = await publish(ws2, { ...orderFlow, key: 'regen_flow' });
    const regen = await call('POST', '/api/workflows/regen_flow/hook', { token: ws2.token });
    expect(regen.json.hookId).not.toBe(old);
    expect((await call('POST', `/hooks/${old}`, { body: {} })).status).toBe(404);
  });
});
