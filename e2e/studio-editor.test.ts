/**
 * The workflow editor in Chromium against the real stack: the seed's order flow
 * (workflows/order_flow.json) built from nothing on the canvas alone, no JSON typed.
 * Secrets are created by API first (their values are never in the studio).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowser, type Browser } from './browser';
import { ok, signup, type Account } from './helpers';

const baseUrl = inject('baseUrl');
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

let account: Account;
let browser: Browser;
let page: Page;

const canvas = () => page.getByTestId('editor-canvas');
const node = (id: string) => page.locator(`[data-testid="canvas-node"][data-step="${id}"]`);
const handle = (nodeId: string, field: string) =>
  page.locator(`.svelte-flow__handle.source[data-nodeid="${nodeId}"][data-handleid="${field}"]`);
const targetHandle = (nodeId: string) => page.locator(`.svelte-flow__handle.target[data-nodeid="${nodeId}"]`);
const panel = () => page.getByTestId('node-panel');

/** Drags a palette item onto the canvas at (x, y) from the canvas's top left. */
async function dropFromPalette(item: string, x: number, y: number) {
  const source = page.locator(`[data-testid="palette-item"][data-item="${item}"]`);
  await source.scrollIntoViewIfNeeded();
  await source.dragTo(canvas(), { targetPosition: { x, y } });
}

/** Drags an edge from one handle to another, as a person does with the mouse. */
async function connect(from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

async function renameSelected(id: string) {
  const field = panel().getByTestId('step-id');
  await field.fill(id);
  await field.press('Enter');
  await node(id).waitFor();
}

/** The node form's control for a param of the action. */
const field = (name: string) => panel().locator(`[data-field="params.${name}"]`).locator('input, select, textarea');

beforeAll(async () => {
  account = await signup(baseUrl, 'Studio Editor');
  for (const [key, value] of [
    ['SHOP_WEBHOOK_SECRET', WEBHOOK_SECRET],
    ['ERP_API_KEY', `erp-${randomBytes(12).toString('hex')}`],
  ])
    await ok(account.api.PUT('/secrets/{key}', { params: { path: { key } }, body: { value } }));
  browser = await openBrowser(baseUrl, { cookie: account.cookie });
  page = browser.page;
  page.setDefaultTimeout(10_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the workflow editor', () => {
  it('builds the order flow on the canvas alone, saves and publishes it', async () => {
    await page.goto(`${baseUrl}/studio/`);
    await page.getByTestId('new-workflow').click();
    await page.waitForURL(/\/studio\/wizard$/);
    await page.getByTestId('new-name').fill('High value order flow');
    expect(await page.getByTestId('new-key').inputValue()).toBe('high_value_order_flow');
    await page.getByTestId('new-key').fill('order_flow');
    await page.getByTestId('start-blank').click();
    await canvas().waitFor();

    // Trigger: a Standard Webhooks webhook, its secret picked from the tenant's list.
    await dropFromPalette('Webhook (Standard Webhooks)', 420, 60);
    const secretPick = panel().getByTestId('trigger-secret');
    await expect.poll(() => secretPick.locator('option').allTextContents()).toContain('SHOP_WEBHOOK_SECRET · ********');
    const options = await secretPick.locator('option').allTextContents();
    expect(options.join(' ')).not.toContain(WEBHOOK_SECRET);
    await secretPick.selectOption('SHOP_WEBHOOK_SECRET');

    // Condition total >= 1000, in the form.
    await dropFromPalette('condition', 420, 170);
    await renameSelected('is_high_value');
    await node('is_high_value').waitFor();
    await panel().getByLabel('Value read').fill('trigger.body.total');
    await panel().getByLabel('Comparison').selectOption('>=');
    await panel().getByLabel('Compared with').fill('1000');

    // The ERP order, its API key picked from the list.
    await dropFromPalette('legacy_erp.create_order', 300, 300);
    await renameSelected('create_erp_order');
    await field('customer_id').fill('{{ trigger.body.customer.id }}');
    await field('items').fill('{{ trigger.body.items }}');
    await panel().getByTestId('secret-API_KEY').selectOption('ERP_API_KEY');

    // The sales notification: an http POST.
    await dropFromPalette('http.request', 300, 430);
    await renameSelected('notify_sales');
    await field('method').selectOption('POST');
    await field('url').fill('https://hooks.example.com/sales');
    await panel().getByRole('button', { name: 'Close the node panel' }).click();

    // Wire by dragging edges: then → ERP → notify.
    await connect(handle('is_high_value', 'then'), targetHandle('create_erp_order'));
    await connect(handle('create_erp_order', 'next'), targetHandle('notify_sales'));
    await page.locator('.svelte-flow__edge[data-id="create_erp_order|next"]').waitFor({ state: 'attached' });
    await page.locator('.svelte-flow__edge[data-id="is_high_value|then"]').waitFor({ state: 'attached' });
    await browser.screenshot('editor-built.png');

    await page.getByTestId('save').click();
    await page.waitForURL(/\/studio\/wizard\/order_flow$/);
    await expect.poll(() => page.getByTestId('publish').isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByTestId('publish').click();
    await expect.poll(() => page.getByTestId('editor-notice').textContent()).toContain('Published version 1');

    const { data: saved } = await account.api.GET('/workflows/{key}', { params: { path: { key: 'order_flow' } } });
    const draft = saved!.draft as { trigger: unknown; steps: Record<string, unknown>[] };
    expect(draft.trigger).toEqual({
      type: 'webhook',
      verify: { scheme: 'standard-webhooks', secret: { $secret: 'SHOP_WEBHOOK_SECRET' } },
    });
    expect(draft.steps.map((s) => s.id)).toEqual(['is_high_value', 'create_erp_order', 'notify_sales']);
    expect(draft.steps[0]).toMatchObject({
      type: 'condition',
      rule: { '>=': [{ var: 'trigger.body.total' }, 1000] },
      then: 'create_erp_order',
    });
    expect(draft.steps[1]).toMatchObject({
      connector: 'legacy_erp',
      action: 'create_order',
      params: { customer_id: '{{ trigger.body.customer.id }}', items: '{{ trigger.body.items }}' },
      secrets: { API_KEY: { $secret: 'ERP_API_KEY' } },
      next: 'notify_sales',
    });
    expect(draft.steps[2]).toMatchObject({
      connector: 'http',
      action: 'request',
      params: { method: 'POST', url: 'https://hooks.example.com/sales' },
    });
  });
});

export const sign = (secret: string, id: string, timestamp: number, body: string) =>
  `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64')}`;
