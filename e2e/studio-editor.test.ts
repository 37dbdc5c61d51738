/**
 * The workflow editor in Chromium against the real stack: the seed's order flow
 * (workflows/order_flow.json) built from nothing on the canvas alone, no JSON typed.
 * Secrets are created by API first (their values are never in the studio).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowser, type Browser } from './browser';
import { docsShot } from './docs-screenshot';
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

/**
 * Drags a palette item onto the canvas at (x, y) from the canvas's top left, and waits for
 * `arrived`. Chromium occasionally drops the very first synthetic HTML5 drag of a page; a
 * second drag is made only when the first left no trace.
 */
async function dropFromPalette(item: string, x: number, y: number, arrived: Locator) {
  const source = page.locator(`[data-testid="palette-item"][data-item="${item}"]`);
  for (let attempt = 1; ; attempt++) {
    await source.scrollIntoViewIfNeeded();
    await source.dragTo(canvas(), { targetPosition: { x, y } });
    try {
      await arrived.waitFor({ timeout: 3000 });
      return;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
}

/** Drags an edge from one handle to another, as a person does with the mouse, and waits for the edge. */
async function connect(from: Locator, to: Locator, edgeId: string) {
  const edge = page.locator(`.svelte-flow__edge[data-id="${edgeId}"]`);
  for (let attempt = 1; ; attempt++) {
    const a = (await from.boundingBox())!;
    const b = (await to.boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2 + 10, { steps: 3 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 15 });
    await page.mouse.up();
    try {
      await edge.waitFor({ state: 'attached', timeout: 3000 });
      return;
    } catch (err) {
      if (attempt >= 2) {
        await browser.screenshot('editor-connect-failed.png');
        throw err;
      }
    }
  }
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
    await page.getByTestId('canvas-trigger').waitFor();
    await page.locator('[data-testid="palette-item"][data-item="http.request"]').waitFor();

    // Trigger: a Standard Webhooks webhook, its secret picked from the tenant's list.
    await dropFromPalette('Webhook (Standard Webhooks)', 150, 400, page.getByTestId('trigger-scheme'));
    expect(await page.getByTestId('trigger-scheme').inputValue()).toBe('standard-webhooks');
    const secretPick = panel().getByTestId('trigger-secret');
    await expect.poll(() => secretPick.locator('option').allTextContents()).toContain('SHOP_WEBHOOK_SECRET · ********');
    const options = await secretPick.locator('option').allTextContents();
    expect(options.join(' ')).not.toContain(WEBHOOK_SECRET);
    await secretPick.selectOption('SHOP_WEBHOOK_SECRET');

    // Condition total >= 1000, in the form.
    await dropFromPalette('condition', 420, 170, node('condition'));
    await renameSelected('is_high_value');
    await node('is_high_value').waitFor();
    await panel().getByLabel('Value read').fill('trigger.body.total');
    await panel().getByLabel('Comparison').selectOption('>=');
    await panel().getByLabel('Compared with').fill('1000');

    // The ERP order, its API key picked from the list.
    await dropFromPalette('legacy_erp.create_order', 300, 300, node('create_order'));
    await renameSelected('create_erp_order');
    await field('customer_id').fill('{{ trigger.body.customer.id }}');
    await field('items').fill('{{ trigger.body.items }}');
    await panel().getByTestId('secret-API_KEY').selectOption('ERP_API_KEY');

    // The sales notification: an http POST.
    await dropFromPalette('http.request', 300, 430, node('request'));
    await renameSelected('notify_sales');
    await field('method').selectOption('POST');
    await field('url').fill('https://hooks.example.com/sales');
    await panel().getByRole('button', { name: 'Close the node panel' }).click();

    // Nothing leads to the two new steps yet: each is a problem on its node and in the list.
    const unreached = (id: string) => `step "${id}": no path from the first step reaches it`;
    const listed = (id: string) => page.getByTestId('problems').getByText(unreached(id));
    await expect.poll(() => listed('notify_sales').count(), { timeout: 10_000 }).toBe(1);
    expect(await listed('create_erp_order').count()).toBe(1);
    expect(await node('notify_sales').getByTestId('node-problems').isVisible()).toBe(true);
    expect(await node('notify_sales').getAttribute('title')).toContain(unreached('notify_sales'));

    // Wire by dragging edges: then → ERP → notify; each link clears the step it reaches.
    await connect(handle('is_high_value', 'then'), targetHandle('create_erp_order'), 'is_high_value|then');
    // (While the changed draft is being checked the list is empty: wait for the server's new answer.)
    const counts = async () => [await listed('create_erp_order').count(), await listed('notify_sales').count()];
    await expect.poll(counts, { timeout: 10_000 }).toEqual([0, 1]);
    await connect(handle('create_erp_order', 'next'), targetHandle('notify_sales'), 'create_erp_order|next');
    await expect.poll(counts, { timeout: 10_000 }).toEqual([0, 0]);
    expect(await node('notify_sales').getByTestId('node-problems').count()).toBe(0);
    // Publish, enabled below only once the server answers no problem at all, confirms it.
    await node('is_high_value').click();
    await docsShot(page, 'editor.png');
    await panel().getByRole('button', { name: 'Close the node panel' }).click();

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
    browser.expectCleanConsole();
  });

  it('publishes a change as v2, shows the diff 1 ↔ 2 on the canvas and in JSON, and rolls back', async () => {
    await node('notify_sales').click();
    await field('url').fill('https://hooks.example.com/sales-v2');
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('editor-notice').textContent()).toContain('Draft saved');
    await expect.poll(() => page.getByTestId('publish').isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByTestId('publish').click();
    await expect.poll(() => page.getByTestId('editor-notice').textContent()).toContain('Published version 2');

    const versions = page.getByTestId('versions-panel');
    await expect.poll(() => versions.getByTestId('version-row').count()).toBe(2);
    await versions.getByTestId('diff-left').selectOption('1');
    await versions.getByTestId('diff-right').selectOption('2');
    await versions.getByTestId('diff').click();
    expect(await versions.getByTestId('diff-title').textContent()).toContain('1 step changed');
    await versions.locator('[data-testid="canvas-node"][data-step="notify_sales"][data-changed="true"]').waitFor();
    expect(await versions.locator('[data-testid="canvas-node"][data-changed="true"]').count()).toBe(1);
    const diffText = await versions.getByTestId('json-diff').textContent();
    expect(diffText).toContain('- ');
    expect(diffText).toMatch(/\+ +"url": "https:\/\/hooks\.example\.com\/sales-v2"/);
    await browser.screenshot('editor-diff.png');

    await versions.getByTestId('rollback-1').click();
    await versions.getByTestId('confirm-rollback').click();
    await expect
      .poll(() => versions.getByTestId('versions-notice').textContent())
      .toContain('Version 1 is active again');
    const { data } = await account.api.GET('/workflows/{key}', { params: { path: { key: 'order_flow' } } });
    expect(data!.activeVersion).toBe(1);
    browser.expectCleanConsole();
  });

  it("draws a signed webhook's run on the canvas: green when it succeeds, red with error and stack when it fails", async () => {
    const { data } = await account.api.GET('/workflows/{key}', { params: { path: { key: 'order_flow' } } });
    const deliver = async (body: unknown) => {
      const text = JSON.stringify(body);
      const id = `msg_${randomBytes(6).toString('hex')}`;
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(`${baseUrl}/hooks/${data!.hookId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': sign(WEBHOOK_SECRET, id, ts, text),
        },
        body: text,
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { runId: string }).runId;
    };

    // A small order: the condition is false and the run ends there, succeeded.
    const small = await deliver({ total: 10, customer: { id: 'c1' }, items: [{ sku: 'A-1' }] });
    await page.goto(`${baseUrl}/studio/runs/${small}`);
    await page.locator('[data-testid="run-status"]', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="canvas-node"][data-step="is_high_value"][data-status="succeeded"]').waitFor();
    expect(
      await page.locator('[data-testid="canvas-node"][data-step="create_erp_order"]').getAttribute('data-status'),
    ).toBe('skipped');
    await browser.screenshot('run-on-canvas-succeeded.png');

    // A big order: the ERP has no address configured in this stack, so its step fails.
    const big = await deliver({ total: 1500, customer: { id: 'c2' }, items: [{ sku: 'B-2', quantity: 1 }] });
    await page.goto(`${baseUrl}/studio/runs/${big}`);
    await page.locator('[data-testid="run-status"]', { hasText: 'failed' }).waitFor({ timeout: 30_000 });
    const failed = page.locator('[data-testid="canvas-node"][data-step="create_erp_order"][data-status="failed"]');
    await failed.waitFor();
    const red = await failed.evaluate((el) => getComputedStyle(el).borderTopColor);
    expect(red).toBe('rgb(180, 35, 24)');
    await failed.click();
    const picked = page.getByTestId('picked-step');
    await picked.getByTestId('step-error').waitFor();
    expect((await picked.getByTestId('step-error').textContent())!.length).toBeGreaterThan(5);
    await picked.getByTestId('step-stack').waitFor({ state: 'attached' });
    await picked.getByTestId('attempts').waitFor();
    await failed.scrollIntoViewIfNeeded();
    await docsShot(page, 'run-on-canvas.png');
    expect(await page.getByRole('link', { name: 'Audit log' }).getAttribute('href')).toContain(`run=${big}`);
  });

  it('renames the workflow, then deletes it after a confirmation naming its runs', async () => {
    await page.goto(`${baseUrl}/studio/wizard/order_flow`);
    const lifecycle = page.getByTestId('lifecycle-panel');
    await lifecycle.getByLabel('Name').fill('Order flow (renamed)');
    await lifecycle.getByRole('button', { name: 'Rename' }).click();
    await expect.poll(() => page.getByTestId('workflow-name').textContent()).toBe('Order flow (renamed)');

    await lifecycle.getByTestId('delete').click();
    const confirmation = lifecycle.getByTestId('delete-confirmation');
    await confirmation.waitFor();
    expect(await confirmation.textContent()).toMatch(/Order flow \(renamed\) with its 2 versions and\s+2 runs/);
    await lifecycle.getByTestId('confirm-delete').click();
    await page.waitForURL(/\/studio\/$/);
    const { response } = await account.api.GET('/workflows/{key}', { params: { path: { key: 'order_flow' } } });
    expect(response.status).toBe(404);
  });
});

const sign = (secret: string, id: string, timestamp: number, body: string) =>
  `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64')}`;
