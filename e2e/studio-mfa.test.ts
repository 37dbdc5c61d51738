/**
 * Two-factor authentication in the studio, in Chromium against the real stack: enrol an
 * authenticator (codes computed here from the secret the page shows, as a phone would),
 * sign out, sign in with a code, then with a recovery code (which then no longer works),
 * require MFA for the team, and watch a member without it land on the enrolment page.
 */
import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { navLink, openBrowser, type Browser } from './browser';
import { createApiClient } from '../api/client.ts';
import { linkToken, mailTo, ok, signup, type Account } from './helpers';

const baseUrl = inject('baseUrl');
const studio = (p = '') => `${baseUrl}/studio/${p}`;

let account: Account;
let browser: Browser;
let page: Page;

/** RFC 6238 with Node's HMAC (independent of the server's WebCrypto code): SHA-1, 6 digits, 30 s. */
function totp(secret: string, step: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Each step's code is accepted once per secret: hand them out in order, like time passing on a phone. */
const lastStep = new Map<string, number>();
async function nextCode(secret: string): Promise<string> {
  for (;;) {
    const now = Date.now();
    const current = Math.floor(now / 30_000);
    const step = Math.max((lastStep.get(secret) ?? -1) + 1, now % 30_000 > 28_000 ? current : current - 1);
    if (step <= current + 1) {
      lastStep.set(secret, step);
      return totp(secret, step);
    }
    await new Promise((r) => setTimeout(r, 30_000 - (now % 30_000) + 50));
  }
}

async function logOut() {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(studio('login'));
}

async function passwordStep(email: string, password: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

beforeAll(async () => {
  account = await signup(baseUrl, 'Studio MFA');
  browser = await openBrowser(baseUrl);
  page = browser.page;
  page.on('dialog', (d) => d.accept());
});

afterAll(async () => {
  await browser?.close();
});

describe('two-factor authentication', () => {
  let secret = '';
  let recoveryCodes: string[] = [];

  it('enrols an authenticator app from the Security page', async () => {
    await page.goto(studio('login'));
    await passwordStep(account.email, account.password);
    await page.waitForURL(studio());
    await page.getByRole('link', { name: 'Security' }).click();
    await page.waitForURL(studio('account/security'));
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();

    secret = (await page.getByTestId('mfa-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // The QR code is drawn as SVG in the page.
    await page.locator('[aria-label="QR code of the two-factor secret"] svg').waitFor();

    await page.getByTestId('mfa-confirm-code').fill(await nextCode(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByTestId('recovery-codes');
    await codes.waitFor();
    recoveryCodes = await codes.locator('li code').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByTestId('mfa-enabled').waitFor();
    // Shown once: the page no longer has the secret or the codes.
    expect(await page.content()).not.toContain(secret);
    expect(await page.content()).not.toContain(recoveryCodes[0]);
  });

  it('signs in with a code after the password', async () => {
    await logOut();
    await passwordStep(account.email, account.password);
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await page.getByLabel('Authentication code').fill(await nextCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(studio());
    await navLink(page, 'Dashboard').waitFor();
  });

  it('signs in with a recovery code, which then no longer works', async () => {
    await logOut();
    await passwordStep(account.email, account.password);
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(studio());

    await logOut();
    await passwordStep(account.email, account.password);
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText(/That code is wrong, already used or expired/).waitFor();
    expect(page.url()).toBe(studio('login'));
    // Another, unused one gets in.
    await page.getByLabel('Recovery code').fill(recoveryCodes[1]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(studio());
  });

  it('lets the owner require MFA; a member without it is taken to enrolment', async () => {
    const member = { email: `member-${Date.now()}@example.com`, password: 'correct horse battery staple' };
    // The member joins by invitation, setting their own password (no two-factor yet).
    await ok(account.api.POST('/invitations', { body: { email: member.email, role: 'editor' } }), 201);
    const token = linkToken(await mailTo(baseUrl, member.email, 'invitation'));
    await ok(
      createApiClient({ baseUrl }).POST('/auth/invitation/accept', {
        body: { token, name: 'Member', password: member.password },
      }),
      201,
    );

    await navLink(page, 'Admin').click();
    await page.getByRole('link', { name: 'Members' }).click();
    await page.waitForURL(studio('settings/members'));
    const panel = page.getByTestId('team-mfa');
    await panel.getByRole('button', { name: 'Require for everyone' }).click();
    await panel.getByText('required', { exact: true }).waitFor();
    const ownerRow = page.locator(`[data-testid="member-row"][data-email="${account.email}"]`);
    expect(await ownerRow.getByTestId('member-mfa').textContent()).toContain('on');
    const memberRow = page.locator(`[data-testid="member-row"][data-email="${member.email}"]`);
    expect(await memberRow.getByTestId('member-mfa').textContent()).toContain('off');
    expect((await ok(account.api.GET('/settings'))).mfaRequired).toBe(true);

    await logOut();
    await passwordStep(member.email, member.password);
    await page.waitForURL(studio('account/security'));
    await page.getByTestId('mfa-required-notice').waitFor();
    // Nothing else is offered, and typing another address comes back here.
    expect(await page.getByRole('navigation', { name: 'Studio' }).count()).toBe(0);
    await page.goto(studio('runs'));
    await page.waitForURL(studio('account/security'));

    // Once enrolled, the same session has the whole studio again.
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const memberSecret = (await page.getByTestId('mfa-secret').textContent()) ?? '';
    await page.getByTestId('mfa-confirm-code').fill(await nextCode(memberSecret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await expect.poll(() => page.getByTestId('mfa-required-notice').count()).toBe(0);
    await navLink(page, 'Runs').click();
    await page.waitForURL(studio('runs'));
  });
});
