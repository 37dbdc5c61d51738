/**
 * Single sign-on in Chromium against the real stack and a real OpenID Connect provider
 * (panva's oidc-provider on loopback, connectors/testing/oidc-provider.ts; it signs in the
 * address the login page sent as `login_hint` without showing a login form). The owner
 * configures SSO on the studio's settings page; then a new person signs in from the login
 * page through the provider and lands in the studio with the default role.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clientSecretOf, type LocalOidcProvider, startOidcProvider } from '../connectors/testing/oidc-provider.ts';
import { openBrowser, type Browser } from './browser';
import { ok, signup, uniqueSuffix, type Account } from './helpers';

const baseUrl = inject('baseUrl');

let provider: LocalOidcProvider;
let owner: Account;
let ownerBrowser: Browser;
let visitor: Browser;
const domain = `sso-${uniqueSuffix()}.test`;

beforeAll(async () => {
  provider = await startOidcProvider({ redirectUris: [`${baseUrl}/api/auth/sso/callback`] });
  owner = await signup(baseUrl, 'Studio SSO');
  await ok(
    owner.api.PUT('/secrets/{key}', {
      params: { path: { key: 'OIDC_CLIENT_SECRET' } },
      body: { value: clientSecretOf('automate-rs') },
    }),
  );
});

afterAll(async () => {
  await ownerBrowser?.close();
  await visitor?.close();
  await provider?.close();
});

const field = (page: Page, label: string) => page.getByLabel(label, { exact: true });

describe('single sign-on', () => {
  it('the owner configures it on the settings page, which shows the redirect URI to register', async () => {
    ownerBrowser = await openBrowser(baseUrl, { cookie: owner.cookie });
    const page = ownerBrowser.page;
    await page.goto(`${baseUrl}/studio/settings/sso`);
    expect(await page.getByTestId('redirect-uri').textContent()).toBe(`${baseUrl}/api/auth/sso/callback`);
    await field(page, 'Issuer URL').fill(provider.issuer);
    await field(page, 'Client ID').fill('automate-rs');
    await field(page, 'Email domains').fill(domain);
    await page.getByLabel('Role of new accounts').selectOption('editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await ownerBrowser.screenshot('sso-settings.png');
    const saved = await ok(owner.api.GET('/sso'));
    expect(saved.config).toMatchObject({
      issuer: provider.issuer,
      clientId: 'automate-rs',
      clientSecret: { $secret: 'OIDC_CLIENT_SECRET' },
      domains: [domain],
      defaultRole: 'editor',
      enabled: true,
    });
    ownerBrowser.expectCleanConsole();
  });

  it('a new person signs in from the login page through the provider', async () => {
    visitor = await openBrowser(baseUrl);
    const page = visitor.page;
    const email = `dana@${domain}`;
    await page.goto(`${baseUrl}/studio/login`);
    await field(page, 'Email').fill(email);
    await field(page, 'Email').blur();
    // The login page asks whether the domain uses SSO and offers it before any password.
    await page.getByText(`${domain} signs in with single sign-on.`).waitFor();
    await visitor.screenshot('sso-login.png');
    await page.getByRole('button', { name: 'Sign in with SSO' }).first().click();
    // Through the provider's authorization endpoint and interaction, back to the callback, into the studio.
    await page.waitForURL(`${baseUrl}/studio/`);
    const me = await page.evaluate(async () => (await fetch('/api/auth/me')).json());
    expect(me.user).toMatchObject({ email, role: 'editor' });
    expect(me.tenant.id).toBe((await ok(owner.api.GET('/auth/me'))).tenant.id);
    const audit = await ok(owner.api.GET('/audit', { params: { query: { action: 'auth.sso.*' } } }));
    expect(audit.entries.map((e) => e.action).sort()).toEqual(['auth.sso.account_created', 'auth.sso.login']);
    visitor.expectCleanConsole([/status of 401/]);
  });

  it('shows why a refused sign-in was refused', async () => {
    const page = visitor.page;
    await page.goto(`${baseUrl}/studio/login?sso_error=wrong_domain`);
    // Signed in already: the login page sends the visitor home, so sign out first.
    await page.evaluate(() => fetch('/api/auth/logout', { method: 'POST' }));
    await page.goto(`${baseUrl}/studio/login?sso_error=wrong_domain`);
    await page.getByText("is not in your team's single sign-on domains").waitFor();
  });
});
