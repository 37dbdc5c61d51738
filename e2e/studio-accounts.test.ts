/**
 * Account mail flows in Chromium against the real stack, every link taken from the dev
 * outbox page as a developer would: sign up → confirm → banner gone; forgot password →
 * reset → the other session is gone; an unknown address gets the same page; an owner
 * invites a viewer → the invitee joins from the link → the viewer's role applies.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiClient } from '../api/client.ts';
import { navLink, openBrowser, screenshotDir, type Browser } from './browser';

const baseUrl = inject('baseUrl');
const suffix = randomBytes(4).toString('hex');
const email = `acct-${suffix}@example.com`;
const PASSWORD = 'the first long passphrase';
const NEW_PASSWORD = 'the second long passphrase';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await openBrowser(baseUrl);
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
});

/** Opens the dev outbox page and follows the link of the newest mail of this kind to this address. */
async function followMailedLink(p: Page, to: string, template: string) {
  const message = p.locator(`[data-testid="outbox-message"][data-to="${to}"][data-template="${template}"]`).first();
  await expect
    .poll(
      async () => {
        await p.goto(`${baseUrl}/studio/dev/outbox`);
        await p.getByRole('heading', { name: 'Outbox' }).waitFor();
        return message.count();
      },
      { timeout: 10_000 },
    )
    .toBeGreaterThan(0);
  await p.screenshot({ path: path.join(screenshotDir, `accounts-outbox-${template}.png`), fullPage: true });
  await message.getByRole('link', { name: 'Open link' }).click();
}

describe('sign-up and confirming the address', () => {
  it('shows the banner until the mailed link is followed', async () => {
    await page.goto(`${baseUrl}/studio/signup`);
    await page.getByLabel('Team name').fill(`Accounts ${suffix}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.waitForURL(`${baseUrl}/studio/`);
    const banner = page.getByTestId('verify-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(`We sent a link to ${email}`);
    await browser.screenshot('accounts-verify-banner.png');

    await followMailedLink(page, email, 'verify_email');
    await page.waitForURL(`${baseUrl}/studio/verify`);
    expect(await page.getByTestId('verified').textContent()).toContain(`${email} is confirmed`);
    // The token has left the address bar.
    expect(page.url()).not.toContain('token');
    await page.getByRole('link', { name: 'Go to the studio' }).click();
    await page.waitForURL(`${baseUrl}/studio/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.getByTestId('verify-banner').count()).toBe(0);
  });
});

describe('forgotten password', () => {
  it('resets from the mailed link and ends the other session; an unknown address sees the same page', async () => {
    // Another device, signed in through the API.
    const other = await createApiClient({ baseUrl }).POST('/auth/login', { body: { email, password: PASSWORD } });
    const otherCookie = other.response.headers.getSetCookie()[0].split(';')[0];
    const otherMe = () => createApiClient({ baseUrl, cookie: otherCookie }).GET('/auth/me');
    expect((await otherMe()).response.status).toBe(200);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${baseUrl}/studio/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(`${baseUrl}/studio/forgot`);
    const ask = async (address: string) => {
      await page.goto(`${baseUrl}/studio/forgot`);
      await page.getByLabel('Email').fill(address);
      await page.getByRole('button', { name: 'Mail me a link' }).click();
      return page.getByTestId('reset-sent').textContent();
    };
    const unknown = await ask(`nobody-${suffix}@example.com`);
    const known = await ask(email);
    expect(unknown).toBe(known);
    expect(known).toContain('If an account uses that address');

    await followMailedLink(page, email, 'reset_password');
    await page.waitForURL(`${baseUrl}/studio/reset`);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByLabel('Repeat it').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    expect(await page.getByTestId('reset-done').textContent()).toContain('every session of the account has ended');
    expect((await otherMe()).response.status).toBe(401);

    await page.getByRole('link', { name: 'Log in' }).first().click();
    await page.waitForURL(`${baseUrl}/studio/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${baseUrl}/studio/`);
  });
});

describe('invitations', () => {
  it('lets the owner invite a viewer who joins from the link with that role', async () => {
    const invitee = `invitee-${suffix}@example.com`;
    await page.goto(`${baseUrl}/studio/settings/members`);
    await page.getByLabel('Email').fill(invitee);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain(`Invitation mailed to ${invitee}`);
    const pending = page.locator(`[data-testid="invitation-row"][data-email="${invitee}"]`);
    expect(await pending.textContent()).toContain('viewer');
    await browser.screenshot('accounts-invitations.png');

    const guest = await openBrowser(baseUrl);
    try {
      const g = guest.page;
      await followMailedLink(g, invitee, 'invitation');
      await g.waitForURL(`${baseUrl}/studio/invite`);
      await expect.poll(() => g.getByRole('heading', { level: 1 }).textContent()).toBe(`Join Accounts ${suffix}`);
      await guest.screenshot('accounts-invite-page.png');
      await g.getByLabel('Your name').fill('Ivy Invitee');
      await g.getByLabel('Choose a password').fill('the invitee passphrase');
      await g.getByRole('button', { name: 'Join as viewer' }).click();
      await g.waitForURL(`${baseUrl}/studio/`);
      // A viewer: read-only sections, no Admin, no Rule Tester, nothing to create.
      await navLink(g, 'Runs').waitFor();
      const nav = await g.getByRole('navigation', { name: 'Studio' }).getByRole('link').allTextContents();
      expect(nav).toEqual(['Dashboard', 'Runs']);
      expect(await g.getByTestId('verify-banner').count()).toBe(0);
      await g.goto(`${baseUrl}/studio/wizard/`);
      expect(await g.getByTestId('wizard-not-allowed').textContent()).toContain('cannot create workflows');
    } finally {
      await guest.close();
    }

    await page.reload();
    await page.locator(`[data-testid="member-row"][data-email="${invitee}"]`).waitFor();
    expect(await pending.count()).toBe(0);
  });
});
