/**
 * The studio's settings pages, API tokens and secrets, driven through Chromium against the
 * real stack. The account is made by API; tokens and secrets are created, used, rotated,
 * revoked and deleted in the browser, and checked from here with plain HTTP.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { navLink as headerLink, openBrowser, type Browser } from './browser';
import { ok, provideSecrets, root, signup, storedSecretKeys, withToken as tokenClient, type Account } from './helpers';

const baseUrl = inject('baseUrl');

let account: Account;
let browser: Browser;
let page: Page;

const listSecrets = async () => (await ok(account.api.GET('/secrets'))).secrets;
/** Who the token is, as the API sees it (`response.status` 200, or 401 once revoked). */
const withToken = (token: string) => tokenClient(baseUrl, token).GET('/auth/me');
const shot = (name: string) => browser.screenshot(name);
/** A section link in the header. */
const navLink = (name: string) => headerLink(page, name);
const tokenRow = (name: string) => page.getByTestId('token-row').filter({ hasText: name });
const secretRow = (key: string) => page.locator(`[data-testid="secret-row"][data-key="${key}"]`);

beforeAll(async () => {
  account = await signup(baseUrl, 'Studio Settings');

  browser = await openBrowser(baseUrl, { cookie: account.cookie, clipboard: true });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
});

describe('API tokens page', () => {
  let token = '';

  it('opens from the header and creates a token whose value is shown once', async () => {
    await page.goto(`${baseUrl}/studio/`);
    await navLink('Admin').click();
    await page.waitForURL(`${baseUrl}/studio/settings/tokens`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('API tokens');
    expect(await page.getByText('No tokens yet.').count()).toBe(1);

    // The first four scopes are ticked by default.
    const checked = await page
      .locator('input[type="checkbox"]')
      .evaluateAll((els) => (els as HTMLInputElement[]).filter((el) => el.checked).map((el) => el.value));
    expect(checked).toEqual(['workflows:read', 'workflows:write', 'runs:trigger', 'runs:read']);

    await page.getByTestId('token-name').fill('CI deploy');
    await page.getByRole('checkbox', { name: 'audit:read' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();

    token = (await page.getByTestId('token-value').textContent()) ?? '';
    expect(token.length).toBeGreaterThan(20);
    expect(await page.getByTestId('created-token').textContent()).toContain('you will not see this token again');
    expect(await page.getByTestId('cli-snippet').textContent()).toBe(
      `AUTOMATE_URL=${baseUrl} AUTOMATE_TOKEN=${token} npx automate import --file workflows/order_flow.json --publish`,
    );

    await page.getByRole('button', { name: 'Copy token' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Copied' }).count()).toBe(1);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

    // The list shows the prefix, never the value.
    const row = tokenRow('CI deploy');
    expect(await row.textContent()).toMatch(/CI deploy.*workflows:read.*audit:read.*active/s);
    expect(await row.textContent()).not.toContain(token);
    const [listed] = (await ok(account.api.GET('/tokens'))).tokens;
    expect(listed).toMatchObject({
      name: 'CI deploy',
      scopes: ['workflows:read', 'workflows:write', 'runs:trigger', 'runs:read', 'audit:read'],
      revokedAt: null,
    });
    expect(token.startsWith(listed.prefix)).toBe(true);
    await shot('studio-settings-tokens-created.png');
  });

  it('the shown value works as a Bearer token', async () => {
    const { data: me, response } = await withToken(token);
    expect(response.status).toBe(200);
    expect(me?.token).toMatchObject({ name: 'CI deploy' });
    expect(me?.tenant.name).toBe('Studio Settings');
  });

  it('forgets the value once dismissed or reloaded', async () => {
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('token-value').count()).toBe(0);
    await page.reload();
    await tokenRow('CI deploy').waitFor();
    expect(await page.content()).not.toContain(token);
  });

  it('revokes only after confirmation, and the API then refuses the token', async () => {
    page.once('dialog', (d) => d.dismiss());
    await tokenRow('CI deploy').getByRole('button', { name: 'Revoke' }).click();
    await page.waitForTimeout(300);
    expect((await withToken(token)).response.status).toBe(200);

    let warning = '';
    page.once('dialog', (d) => {
      warning = d.message();
      return d.accept();
    });
    await tokenRow('CI deploy').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Token "CI deploy" revoked.');
    expect(warning).toContain('stops working at once');
    expect(await tokenRow('CI deploy').textContent()).toContain('revoked');
    expect(await tokenRow('CI deploy').getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect((await withToken(token)).response.status).toBe(401);
    await shot('studio-settings-tokens.png');
  });
});

describe('secrets page', () => {
  const first = `e2e-first-${randomBytes(12).toString('hex')}`;
  const second = `e2e-second-${randomBytes(12).toString('hex')}`;

  it('adds a secret: version 1, shown only as the mask, input cleared', async () => {
    await page.getByRole('navigation', { name: 'Governance' }).getByRole('link', { name: 'Stored Secrets' }).click();
    await page.waitForURL(`${baseUrl}/studio/settings/secrets`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Secrets');
    expect(await page.getByTestId('secret-value').getAttribute('type')).toBe('password');

    await page.getByTestId('secret-key').fill('E2E_API_KEY');
    await page.getByTestId('secret-value').fill(first);
    await page.getByRole('button', { name: 'Add secret' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Secret E2E_API_KEY saved (version 1).');

    const row = secretRow('E2E_API_KEY');
    expect(await row.getByTestId('secret-version').textContent()).toBe('1');
    expect(await row.getByTestId('secret-mask').textContent()).toBe('********');
    expect(await page.getByTestId('secret-value').inputValue()).toBe('');
    expect(await page.getByTestId('secret-key').inputValue()).toBe('');
    expect(await page.content()).not.toContain(first);
    expect(await listSecrets()).toEqual([
      expect.objectContaining({ key: 'E2E_API_KEY', backend: 'stored', version: 1, value: '********' }),
    ]);
  });

  it('rotates it to version 2 without ever showing either value', async () => {
    await secretRow('E2E_API_KEY').getByRole('button', { name: 'Rotate' }).click();
    expect(await page.getByTestId('rotate-value').getAttribute('type')).toBe('password');
    await page.getByTestId('rotate-value').fill(second);
    await page.getByRole('button', { name: 'Save new value' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('Secret E2E_API_KEY rotated to version 2');

    expect(await secretRow('E2E_API_KEY').getByTestId('secret-version').textContent()).toBe('2');
    expect(await secretRow('E2E_API_KEY').textContent()).toContain('Rotated');
    expect(await page.getByTestId('rotate-value').count()).toBe(0);
    const html = await page.content();
    expect(html).not.toContain(first);
    expect(html).not.toContain(second);
    expect((await listSecrets())[0]).toMatchObject({ key: 'E2E_API_KEY', version: 2 });
  });

  it('shows which active workflows hold up a delete', async () => {
    const orderFlow = JSON.parse(readFileSync(path.join(root, 'workflows/order_flow.json'), 'utf8'));
    await provideSecrets(account, storedSecretKeys(orderFlow));
    await ok(account.api.POST('/workflows/import', { params: { query: { publish: 'true' } }, body: orderFlow }), 201);
    await page.reload();
    await expect.poll(() => secretRow('ERP_API_KEY').textContent()).toContain(`${orderFlow.key} v1`);
    await shot('studio-settings-secrets.png');

    page.once('dialog', (d) => d.accept());
    await secretRow('ERP_API_KEY').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('is used by active workflows');
    expect(await page.getByRole('alert').textContent()).toContain(`${orderFlow.key} (v1)`);
    expect(await secretRow('ERP_API_KEY').count()).toBe(1);
    await shot('studio-settings-secrets-conflict.png');
  });

  it('deletes an unused secret after confirmation', async () => {
    page.once('dialog', (d) => d.dismiss());
    await secretRow('E2E_API_KEY').getByRole('button', { name: 'Delete' }).click();
    await page.waitForTimeout(300);
    expect(await secretRow('E2E_API_KEY').count()).toBe(1);

    page.once('dialog', (d) => d.accept());
    await secretRow('E2E_API_KEY').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Secret E2E_API_KEY deleted.');
    expect(await secretRow('E2E_API_KEY').count()).toBe(0);
    expect((await listSecrets()).map((s) => s.key)).not.toContain('E2E_API_KEY');
  });
});
