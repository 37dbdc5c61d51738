/**
 * The copilot in the studio, in Chromium against the real stack: the seed's sentence typed
 * into the wizard's "Describe your workflow" box, the draft reviewed on the canvas with its
 * notes, refined with a second sentence, its secrets picked from the tenant's stored secrets
 * (created by API first: values never reach the studio), saved, and published as v1.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowser, type Browser } from './browser';
import { docsShot } from './docs-screenshot';
import { ok, signup, type Account } from './helpers';

const baseUrl = inject('baseUrl');
const SEED = 'When a high value order comes in, create it in the ERP and notify sales on Slack';

let account: Account;
let browser: Browser;
let page: Page;

const nodes = () => page.locator('[data-testid="canvas-node"]');
const panel = () => page.getByTestId('node-panel');
const closePanel = () => panel().getByRole('button', { name: 'Close the node panel' }).click();
/** What the canvas shows of each step, in the order of the file: `type summary`. */
const canvasSteps = async () =>
  (await nodes().evaluateAll((els) => els.map((el) => el.querySelector('.summary')?.textContent?.trim() ?? ''))).sort();
const notes = () => page.getByTestId('copilot-note');

beforeAll(async () => {
  account = await signup(baseUrl, 'Studio Copilot');
  // Under other names than the draft's defaults, so each has to be picked in the node panel.
  for (const key of ['SHOP_SIGNING_SECRET', 'ERP_LIVE_KEY', 'SLACK_SALES_BOT'])
    await ok(
      account.api.PUT('/secrets/{key}', {
        params: { path: { key } },
        body: { value: `v-${randomBytes(16).toString('hex')}` },
      }),
    );
  browser = await openBrowser(baseUrl, { cookie: account.cookie });
  page = browser.page;
  page.setDefaultTimeout(10_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the copilot box', () => {
  it('drafts the seed sentence onto the canvas, refines it, takes picked secrets, saves and publishes', async () => {
    await page.goto(`${baseUrl}/studio/wizard`);
    const box = page.getByTestId('wizard-copilot');
    await box.getByLabel('Describe your workflow').fill(SEED);
    await box.getByRole('button', { name: 'Draft workflow' }).click();

    // The draft on the canvas, unsaved: webhook trigger, condition, ERP order, Slack message.
    await page.getByTestId('canvas-trigger').waitFor();
    expect(await page.getByTestId('canvas-trigger').textContent()).toContain('webhook');
    await expect.poll(canvasSteps).toEqual(['if rule passes', 'legacy_erp.create_order', 'slack.post_message']);
    expect(await page.getByText('unsaved changes').isVisible()).toBe(true);
    const key = await page.getByTestId('workflow-key-input').inputValue();
    expect(key).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    expect((await ok(account.api.GET('/workflows'))).workflows).toEqual([]);

    // The notes beside it: the threshold to confirm, and a link for each secret to create.
    const noteTexts = await notes().allTextContents();
    expect(noteTexts.some((n) => n.includes('confirm 1000 as the high-value threshold'))).toBe(true);
    const links = page.getByTestId('copilot-secret-link');
    expect(await links.evaluateAll((els) => els.map((el) => el.getAttribute('data-secret')).sort())).toEqual([
      'ERP_API_KEY',
      'SLACK_BOT_TOKEN',
      'WEBHOOK_SECRET',
    ]);
    expect(await links.first().getAttribute('href')).toBe('/studio/settings/secrets');
    expect(await links.first().textContent()).toContain('Admin › Stored Secrets');

    // Refine with a second sentence, sent from the keyboard: a condition on the country appears.
    const refine = page.getByLabel('Change this draft');
    await refine.fill('only for orders from Germany');
    await refine.press('Control+Enter');
    await expect
      .poll(canvasSteps)
      .toEqual(['if rule passes', 'if rule passes', 'legacy_erp.create_order', 'slack.post_message']);
    await expect.poll(() => page.getByTestId('editor-notice').textContent()).toContain('The copilot changed the draft');
    expect((await notes().allTextContents()).join(' ')).toMatch(/German|DE/);
    expect(await refine.inputValue()).toBe('');
    await page.getByTestId('copilot-panel').scrollIntoViewIfNeeded();
    await docsShot(page, 'copilot.png');

    // Pick the secrets: the trigger's signing secret, the ERP's API key, the Slack bot token.
    await page.getByTestId('canvas-trigger').click();
    await panel().getByTestId('trigger-secret').selectOption('SHOP_SIGNING_SECRET');
    await closePanel();
    const step = (summary: string) => nodes().filter({ hasText: summary });
    await step('legacy_erp.create_order').click();
    await panel().getByTestId('secret-API_KEY').selectOption('ERP_LIVE_KEY');
    await closePanel();
    await step('slack.post_message').click();
    await panel().getByTestId('secret-SLACK_BOT_TOKEN').selectOption('SLACK_SALES_BOT');
    await closePanel();

    await page.getByTestId('save').click();
    await page.waitForURL(new RegExp(`/studio/wizard/${key}$`));
    await expect.poll(() => page.getByTestId('publish').isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByTestId('publish').click();
    await expect.poll(() => page.getByTestId('editor-notice').textContent()).toContain('Published version 1');

    const published = (await ok(
      account.api.GET('/workflows/{key}/export', { params: { path: { key }, query: { version: 1 } } }),
    )) as { trigger: Record<string, unknown>; steps: Record<string, any>[] };
    expect(published.trigger).toEqual({
      type: 'webhook',
      verify: { scheme: 'standard-webhooks', secret: { $secret: 'SHOP_SIGNING_SECRET' } },
    });
    const rules = JSON.stringify(published.steps.filter((s) => s.type === 'condition').map((s) => s.rule));
    expect(rules).toContain('{"var":"trigger.body.country"},"DE"');
    expect(rules).toContain('{"var":"trigger.body.total"},1000');
    const actions = published.steps.filter((s) => s.type === 'action');
    expect(actions.map((s) => `${s.connector}.${s.action}`)).toEqual(['legacy_erp.create_order', 'slack.post_message']);
    expect(actions[0].secrets).toEqual({ API_KEY: { $secret: 'ERP_LIVE_KEY' } });
    expect(actions[0].next).toBe(actions[1].id);
    expect(actions[1].secrets).toEqual({ SLACK_BOT_TOKEN: { $secret: 'SLACK_SALES_BOT' } });
    expect(actions[1].params.channel).toBe('#sales');
    // Runs start at a condition and both conditions lead to the ERP order.
    expect(published.steps[0].type).toBe('condition');
    browser.expectCleanConsole();
  });

  it('says when to try again once the workspace has used its drafts for the minute', async () => {
    // Use up the minute's drafts by API, then ask in the studio.
    for (;;) {
      const { response } = await account.api.POST('/copilot/draft', { body: { prompt: 'every hour call the API' } });
      if (response.status === 429) break;
      expect(response.status).toBe(200);
    }
    // The saved workflow's editor opens with the copilot folded away: unfold it from the keyboard.
    const folded = page.getByTestId('copilot-panel');
    expect(await folded.getAttribute('open')).toBeNull();
    await folded.locator('summary').focus();
    await page.keyboard.press('Enter');
    const refine = page.getByLabel('Change this draft');
    await refine.fill('also email the customer');
    await page.getByRole('button', { name: 'Refine draft' }).click();
    const error = page.getByTestId('copilot-error');
    await expect.poll(() => error.textContent()).toMatch(/Try again in \d+ s \(at \d/);
    expect(await refine.inputValue()).toBe('also email the customer');
  });
});
