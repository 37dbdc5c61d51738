/**
 * The studio's workflow page, Execution Explorer and Rule Tester, driven through Chromium
 * against the real stack. Workflows are imported and published by API with the session
 * cookie; everything after that is what a user does and sees in the browser.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { navLink as headerLink, openBrowser, type Browser } from './browser';
import type { Schemas } from '../api/client.ts';
import { ok, signup, type Account } from './helpers';

const baseUrl = inject('baseUrl');
const DANGER = 'rgb(180, 35, 24)'; // --danger in studio/src/app.css (light scheme)

const orders = {
  key: 'orders',
  name: 'Big orders',
  trigger: { type: 'api' },
  steps: [
    { id: 'check', type: 'condition', rule: { '>': [{ var: 'trigger.body.total' }, 100] }, then: 'tag', else: null },
    { id: 'tag', type: 'transform', output: { big: true, total: '{{ trigger.body.total }}' }, next: null },
  ],
};
// Port 9 (discard) has no listener: the call fails with a network error, and without a retry policy the run fails.
const flaky = {
  key: 'flaky',
  name: 'Flaky call',
  trigger: { type: 'api' },
  steps: [
    { id: 'prepare', type: 'transform', output: { orderId: '{{ trigger.body.orderId }}' }, next: 'call' },
    {
      id: 'call',
      type: 'action',
      connector: 'http',
      action: 'request',
      params: { url: 'http://127.0.0.1:9/nothing' },
      next: null,
    },
  ],
};

// A delay keeps the run going long enough to watch the run page refresh itself.
const slow = {
  key: 'slow',
  name: 'Slow one',
  trigger: { type: 'api' },
  steps: [
    { id: 'wait', type: 'delay', delayMs: 2500, next: 'done' },
    { id: 'done', type: 'transform', output: { waited: true }, next: null },
  ],
};

let account: Account;
let browser: Browser;
let page: Page;

const importPublished = (file: unknown) =>
  ok(
    account.api.POST('/workflows/import', {
      params: { query: { publish: 'true' } },
      body: file as Schemas['WorkflowFile'],
    }),
    201,
  );
const getWorkflow = (key: string) => ok(account.api.GET('/workflows/{key}', { params: { path: { key } } }));
/** The saved draft: whatever JSON the page saved. */
const draftOf = async (key: string) => (await getWorkflow(key)).draft as any;
const getRun = (id: string) => ok(account.api.GET('/runs/{id}', { params: { path: { id } } }));
const startRun = (key: string, payload: unknown) =>
  ok(account.api.POST('/workflows/{key}/runs', { params: { path: { key } }, body: { payload } }), 202);

async function finished(runId: string): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const run = await getRun(runId);
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const shot = (name: string) => browser.screenshot(name);
const draftBox = () => page.getByTestId('draft');
/** A section link in the header (pages have breadcrumbs with the same words). */
const navLink = (name: string) => headerLink(page, name);

beforeAll(async () => {
  account = await signup(baseUrl, 'Studio Flows');
  await importPublished(orders);
  await importPublished(flaky);
  await importPublished(slow);

  browser = await openBrowser(baseUrl, { cookie: account.cookie, clipboard: true });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
});

describe('workflow page', () => {
  it('opens from the home page list and shows name, version, webhook URL and the canvas', async () => {
    await page.goto(`${baseUrl}/studio/`);
    await page.getByRole('link', { name: 'Big orders' }).click();
    await page.waitForURL(`${baseUrl}/studio/workflows/orders`);

    expect(await page.getByTestId('workflow-name').textContent()).toBe('Big orders');
    expect((await page.getByTestId('active-version').textContent())?.trim()).toBe('v1');
    const { hookId } = await getWorkflow('orders');
    expect(await page.getByTestId('webhook-url').textContent()).toBe(`${baseUrl}/hooks/${hookId}`);

    // One node per step, one labelled edge for the condition's `then`; `else: null` draws nothing.
    const nodes = page.locator('.svelte-flow__node');
    await expect.poll(() => nodes.count()).toBe(2);
    expect(await page.getByTestId('canvas-node').allTextContents()).toEqual([
      expect.stringMatching(/condition.*start.*check/is),
      expect.stringMatching(/transform.*tag/is),
    ]);
    expect(await page.locator('.svelte-flow__edge').count()).toBe(1);
    expect(await page.locator('.svelte-flow__edge-label').textContent()).toBe('then');
    // Top-down: the condition sits above the step it leads to.
    const [check, tag] = [
      await page.locator('[data-step="check"]').boundingBox(),
      await page.locator('[data-step="tag"]').boundingBox(),
    ];
    expect(check!.y + check!.height).toBeLessThan(tag!.y);

    expect(await page.getByTestId('version-row').allTextContents()).toEqual([expect.stringMatching(/v1.*active/s)]);
    await shot('studio-workflow-page.png');
  });

  it('copies the webhook URL and regenerates it only after confirmation', async () => {
    const before = await page.getByTestId('webhook-url').textContent();
    await page.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Copied' }).count()).toBe(1);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(before);

    page.once('dialog', (d) => d.dismiss());
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.waitForTimeout(300);
    expect(await page.getByTestId('webhook-url').textContent()).toBe(before);

    let warning = '';
    page.once('dialog', (d) => {
      warning = d.message();
      return d.accept();
    });
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => page.getByTestId('webhook-url').textContent()).not.toBe(before);
    expect(warning).toContain('stops working');
    const { hookId } = await getWorkflow('orders');
    expect(await page.getByTestId('webhook-url').textContent()).toBe(`${baseUrl}/hooks/${hookId}`);
  });

  it('reports invalid JSON before saving and shows the field errors the server finds', async () => {
    const original = await draftBox().inputValue();
    await draftBox().fill('{"key": "orders",');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The draft is not valid JSON');

    const broken = structuredClone(orders);
    broken.steps[0].then = 'nowhere';
    await draftBox().fill(JSON.stringify(broken, null, 2));
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('steps[0].then');
    expect(await page.getByRole('alert').textContent()).toContain('no step with id "nowhere"');
    // Unsaved: publishing is held back until the draft is saved.
    expect(await page.getByRole('button', { name: 'Publish' }).isDisabled()).toBe(true);
    expect((await draftOf('orders')).steps[0].then).toBe('tag');

    await draftBox().fill(original);
    expect(await page.getByRole('button', { name: 'Publish' }).isDisabled()).toBe(false);
  });

  it('saves a draft, publishes it as v2 and rolls back to v1', async () => {
    await draftBox().fill(JSON.stringify({ ...orders, name: 'Big orders (edited)' }, null, 2));
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Draft saved.');
    expect((await draftOf('orders')).name).toBe('Big orders (edited)');

    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Published v2');
    expect((await page.getByTestId('active-version').textContent())?.trim()).toBe('v2');
    expect(await page.getByTestId('version-row').allTextContents()).toEqual([
      expect.stringMatching(/v2.*active/s),
      expect.stringMatching(/v1.*Activate/s),
    ]);

    await page.getByTestId('version-row').filter({ hasText: 'v1' }).getByRole('button', { name: 'Activate' }).click();
    await expect.poll(async () => (await page.getByTestId('active-version').textContent())?.trim()).toBe('v1');
    expect(await page.getByTestId('version-row').allTextContents()).toEqual([
      expect.stringMatching(/v2.*Activate/s),
      expect.stringMatching(/v1.*active/s),
    ]);
    expect((await getWorkflow('orders')).activeVersion).toBe(1);
  });

  it("keeps node positions dragged on the canvas in the draft's ui field", async () => {
    const node = page.locator('[data-step="tag"]');
    await page.getByTestId('canvas').scrollIntoViewIfNeeded();
    const box = (await node.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 40, { steps: 8 });
    await page.mouse.up();
    await expect.poll(async () => JSON.parse(await draftBox().inputValue()).ui?.nodes?.tag).toBeTruthy();
    const draft = JSON.parse(await draftBox().inputValue());
    expect(Object.keys(draft.ui.nodes).sort()).toEqual(['check', 'tag']);
    expect(draft.ui.nodes.tag.x).toBeGreaterThan(draft.ui.nodes.check.x);

    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Draft saved.');
    expect((await draftOf('orders')).ui.nodes).toEqual(draft.ui.nodes);
    // Reloaded, the canvas draws the saved layout: `tag` now right of `check`.
    await page.reload();
    const [check, tag] = [
      await page.locator('[data-step="check"]').boundingBox(),
      await page.locator('[data-step="tag"]').boundingBox(),
    ];
    expect(tag!.x).toBeGreaterThan(check!.x + 20);
  });

  it('dry-runs the draft: the path taken and what each step would produce', async () => {
    await page.getByTestId('payload').fill('{"total": 50}');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => page.getByTestId('dry-run-step').allTextContents()).toEqual(['check']);

    await page.getByTestId('payload').fill('{"total": 150}');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => page.getByTestId('dry-run-step').allTextContents()).toEqual(['check', 'tag']);
    expect(await page.getByTestId('dry-run').textContent()).toMatch(/"total": 150/);

    await page.getByTestId('payload').fill('{total: 150}');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Payload is not valid JSON');
  });

  it('runs manually with a sample payload and lands on the run page as it succeeds', async () => {
    await page.getByTestId('payload').fill('{"total": 150}');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/\/studio\/runs\/run_[\w-]+$/);
    const runId = page.url().split('/').pop()!;

    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 15_000 }).toBe('succeeded');
    const steps = page.getByTestId('step');
    expect(
      await steps.evaluateAll((els) => els.map((el) => [el.getAttribute('data-step'), el.getAttribute('data-status')])),
    ).toEqual([
      ['check', 'succeeded'],
      ['tag', 'succeeded'],
    ]);
    // The template that is the whole string kept the number's type.
    expect(await page.locator('[data-step="tag"] [data-testid="step-output"] pre').textContent()).toBe(
      JSON.stringify({ big: true, total: 150 }, null, 2),
    );
    expect(await page.getByTestId('trigger-body').textContent()).toContain('"total": 150');
    expect((await getRun(runId)).triggerType).toBe('manual');
    // Final: the page stops polling, so no "Refreshing" hint and no retry for a success.
    expect(await page.getByText('Refreshing every second').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Retry from failed step' }).count()).toBe(0);
  });
});

describe('run page', () => {
  it('refreshes itself while the run is moving and stops once it is final', async () => {
    const { runId } = await startRun('slow', {});
    await page.goto(`${baseUrl}/studio/runs/${runId}`);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    expect(await page.getByTestId('run-status').textContent()).toMatch(/^(queued|running)$/);
    expect(await page.getByText('Refreshing every second').count()).toBe(1);

    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 15_000 }).toBe('succeeded');
    // Same document (no reload), steps updated in place, polling stopped.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    expect(
      await page.getByTestId('step').evaluateAll((els) => els.map((el) => el.getAttribute('data-status'))),
    ).toEqual(['succeeded', 'succeeded']);
    expect(await page.getByText('Refreshing every second').count()).toBe(0);
    let polls = 0;
    const count = (req: { url(): string }) => req.url().endsWith(`/api/runs/${runId}`) && polls++;
    page.on('request', count);
    await page.waitForTimeout(2500);
    page.off('request', count);
    expect(polls).toBe(0);
  });
});

describe('Execution Explorer', () => {
  let failedId: string;

  beforeAll(async () => {
    const { runId } = await startRun('flaky', { orderId: 'A-1' });
    failedId = runId;
    expect((await finished(runId)).status).toBe('failed');
  });

  it('lists runs newest first, failed ones in red with their error', async () => {
    await navLink('Runs').click();
    await page.waitForURL(`${baseUrl}/studio/runs`);
    const rows = page.getByTestId('run-row');
    await expect.poll(() => rows.count()).toBe(3);
    const { runs } = await ok(account.api.GET('/runs'));
    expect(await rows.evaluateAll((els) => els.map((el) => el.querySelector('code')!.textContent))).toEqual(
      runs.map((r: { id: string }) => r.id),
    );

    const failed = rows.filter({ hasText: failedId });
    expect(await failed.getAttribute('data-status')).toBe('failed');
    expect(await failed.getByTestId('status').evaluate((el) => getComputedStyle(el).color)).toBe(DANGER);
    expect(await failed.getByTestId('run-error').textContent()).toContain('http://127.0.0.1:9/nothing');
    const succeeded = rows.filter({ hasNotText: failedId });
    expect(
      await succeeded
        .getByTestId('status')
        .evaluateAll((els) => els.map((el) => [el.textContent, getComputedStyle(el).color !== 'rgb(180, 35, 24)'])),
    ).toEqual([
      ['succeeded', true],
      ['succeeded', true],
    ]);
    await shot('studio-runs-list.png');
  });

  it('filters by status and by workflow', async () => {
    await page.getByTestId('filter-status').selectOption('failed');
    await page.waitForURL(`${baseUrl}/studio/runs?status=failed`);
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(1);
    expect(await page.getByTestId('run-row').getAttribute('data-status')).toBe('failed');

    await page.getByTestId('filter-status').selectOption('');
    await page.getByTestId('filter-workflow').selectOption('orders');
    await page.waitForURL(`${baseUrl}/studio/runs?workflow=orders`);
    await expect
      .poll(() => page.getByTestId('run-row').allTextContents())
      .toEqual([expect.stringContaining('succeeded')]);

    await page.getByTestId('filter-workflow').selectOption('');
    await page.waitForURL(`${baseUrl}/studio/runs`);
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(3);
  });

  it('shows a failed run: error message, stack, each attempt', async () => {
    await page.getByRole('link', { name: failedId }).click();
    await page.waitForURL(`${baseUrl}/studio/runs/${failedId}`);
    expect(await page.getByTestId('run-status').textContent()).toBe('failed');
    expect(await page.getByTestId('run-error').textContent()).toContain('Step "call" failed');

    const call = page.locator('[data-testid="step"][data-step="call"]');
    expect(await call.getAttribute('data-status')).toBe('failed');
    expect(await call.getByTestId('step-error').locator('.message').textContent()).toMatch(
      /GET http:\/\/127\.0\.0\.1:9\/nothing failed/,
    );
    // The stack is folded away until asked for.
    const stack = call.getByTestId('step-stack').locator('pre');
    expect(await stack.isVisible()).toBe(false);
    await call.getByText('Stack trace').click();
    expect(await stack.isVisible()).toBe(true);
    expect(await stack.textContent()).toMatch(/ConnectorError[\s\S]*\n\s+at /);
    expect(await stack.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/i);
    expect(await call.getByTestId('attempts').locator('tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^1\s*failed.*Network/s),
    ]);
    expect(await call.getByTestId('step-input').textContent()).toContain('http://127.0.0.1:9/nothing');

    const prepare = page.locator('[data-testid="step"][data-step="prepare"]');
    expect(await prepare.getAttribute('data-status')).toBe('succeeded');
    expect(await prepare.getByTestId('step-output').textContent()).toContain('"orderId": "A-1"');
    await shot('studio-failed-run.png');
  });

  it('retries from the failed step as a new run', async () => {
    await page.getByRole('button', { name: 'Retry from failed step' }).click();
    await page.waitForURL((url) => /\/studio\/runs\/run_/.test(url.pathname) && !url.pathname.endsWith(failedId));
    const retryId = page.url().split('/').pop()!;
    expect(await page.getByRole('link', { name: failedId }).count()).toBe(1); // "Retry of"
    // Port 9 is still closed: the retry fails at the same step, reusing the step before it.
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 15_000 }).toBe('failed');
    const run = await getRun(retryId);
    expect([run.retryOf, run.triggerType]).toEqual([failedId, 'retry']);
    expect(await page.locator('[data-testid="step"][data-step="call"]').getAttribute('data-status')).toBe('failed');

    await navLink('Runs').click();
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(4);
    expect(await page.getByTestId('run-row').first().textContent()).toContain(retryId);
  });

  it('pages through many runs with "Load more"', async () => {
    for (let i = 0; i < 5; i++) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => startRun('orders', { total: i * 10 + j })));
    }
    const total = 54;
    await page.goto(`${baseUrl}/studio/runs`);
    const rows = page.getByTestId('run-row');
    await expect.poll(() => rows.count()).toBe(50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBe(total);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    const ids = await rows.evaluateAll((els) => els.map((el) => el.querySelector('code')!.textContent));
    expect(new Set(ids).size).toBe(total);
  });
});

describe('Rule Tester', () => {
  const ruleBox = () => page.getByTestId('rule');
  const dataBox = () => page.getByTestId('rule-data');

  it('evaluates a rule against sample data: passed, then failed', async () => {
    await navLink('Rule Tester').click();
    await page.waitForURL(`${baseUrl}/studio/rules`);
    await ruleBox().fill('{">": [{"var": "total"}, 100]}');
    await dataBox().fill('{"total": 150}');
    await page.getByRole('button', { name: 'Test rule' }).click();
    await expect.poll(() => page.getByTestId('rule-verdict').textContent()).toBe('Passed');
    expect(await page.getByTestId('rule-result').textContent()).toBe('true');

    await dataBox().fill('{"total": 50}');
    await page.getByRole('button', { name: 'Test rule' }).click();
    await expect.poll(() => page.getByTestId('rule-verdict').textContent()).toBe('Failed');
    expect(await page.getByTestId('rule-result').textContent()).toBe('false');
    expect(
      await page
        .getByTestId('rule-outcome')
        .evaluate((el) => getComputedStyle(el.querySelector('[data-testid="rule-verdict"]')!).color),
    ).toBe(DANGER);
  });

  it('reports invalid JSON in either box without sending anything', async () => {
    let sent = 0;
    const count = (req: { url(): string }) => req.url().endsWith('/api/rules/test') && sent++;
    page.on('request', count);
    await ruleBox().fill('{">": [{"var": "total"}, 100]');
    await dataBox().fill('{total: 1}');
    await page.getByRole('button', { name: 'Test rule' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('Rule is not valid JSON');
    expect(await alert.textContent()).toContain('Data is not valid JSON');
    expect(await page.getByTestId('rule-outcome').count()).toBe(0);
    page.off('request', count);
    expect(sent).toBe(0);
  });

  it('shows the API error for a rule it cannot evaluate', async () => {
    await ruleBox().fill('{"no_such_op": [1]}');
    await dataBox().fill('{}');
    await page.getByRole('button', { name: 'Test rule' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('no_such_op');
    expect(await alert.textContent()).toMatch(/invalid_rule · request req_/);
  });
});
