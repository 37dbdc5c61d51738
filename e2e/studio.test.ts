import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openBrowser, type Browser } from './browser';
import { uniqueSuffix } from './helpers';

const baseUrl = inject('baseUrl');

let browser: Browser;
let page: Page;

const tenant = `Studio Team ${uniqueSuffix()}`;
const email = `studio-${uniqueSuffix()}@example.com`;
const password = 'a long enough passphrase';

beforeAll(async () => {
  browser = await openBrowser(baseUrl);
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
});

const heading = () => page.getByTestId('tenant-name');

it('signs up from the home page and lands on the team home', async () => {
  await page.goto(`${baseUrl}/studio/`);
  await page.getByRole('link', { name: 'Create a team' }).click();
  await page.waitForURL(`${baseUrl}/studio/signup`);

  await page.getByLabel('Team name').fill(tenant);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create team' }).click();

  await page.waitForURL(`${baseUrl}/studio/`);
  await expect.poll(() => heading().textContent()).toBe(tenant);
  expect(await page.getByTestId('role').textContent()).toContain('owner');
  expect(await page.getByText('No workflows yet.').isVisible()).toBe(true);
});

it('lists workflows with their active version', async () => {
  // The browser's own session imports one, as a script in the same session would.
  const res = await page.request.post(`${baseUrl}/api/workflows/import?publish=true`, {
    headers: { origin: baseUrl },
    data: {
      key: 'greet',
      name: 'Greet new customers',
      trigger: { type: 'manual' },
      steps: [{ id: 'hi', type: 'transform', output: { ok: true }, next: null }],
    },
  });
  expect(res.status()).toBe(201);
  await page.reload();
  const row = page.getByTestId('workflow-row');
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.textContent()).toMatch(/Greet new customers\s*greet\s*v1/);

  await browser.screenshot('studio-home.png');
});

it('logs out', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${baseUrl}/studio/login`);
  expect(await page.getByRole('link', { name: 'Sign up' }).isVisible()).toBe(true);
  const me = await page.request.get(`${baseUrl}/api/auth/me`);
  expect(me.status()).toBe(401);
});

it('shows the API error for a wrong password', async () => {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the right passphrase');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect.poll(() => page.getByRole('alert').textContent()).toContain('Email or password is wrong');
  expect(page.url()).toBe(`${baseUrl}/studio/login`);
});

it('logs back in', async () => {
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${baseUrl}/studio/`);
  await expect.poll(() => heading().textContent()).toBe(tenant);
});

it('serves deep links to client-side routes (signed in, /signup goes home)', async () => {
  const res = await page.goto(`${baseUrl}/studio/signup`);
  expect(res?.status()).toBe(200);
  await page.waitForURL(`${baseUrl}/studio/`);
  await expect.poll(() => heading().textContent()).toBe(tenant);
});
