/**
 * Chromium driven by playwright-core, as every studio test uses it: a fresh profile, the
 * flags this closed network needs, optionally signed in with a session. Which binary:
 * chromium-path.ts (Debian's, else the one from the `@sparticuz/chromium` npm package).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chromiumLaunch } from './chromium-path';

// Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Chromium logs every 4xx answer as a console error. Tests provoke those on purpose (a wrong
 * password, a refused draft) and the studio shows them in words, so they are not failures;
 * anything else the console says (a Svelte warning, an uncaught error) is.
 */
const EXPECTED_HTTP_ERROR = /^error: Failed to load resource: the server responded with a status of 4\d\d /;

/** Screenshots are kept after the run so a person can look at them. */
export const screenshotDir = process.env.E2E_SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'automate-e2e-screenshots');

export interface Browser {
  context: BrowserContext;
  page: Page;
  screenshot(name: string): Promise<Buffer>;
  /** Console errors and warnings, and uncaught page errors, since the last check. */
  consoleProblems: string[];
  /**
   * Throws listing every console error or warning since the last call (then forgets them),
   * except those matching `allow` (e.g. the 401 a signed-out page gets from /api/auth/me).
   */
  expectCleanConsole(allow?: RegExp[]): void;
  close(): Promise<void>;
}

export async function openBrowser(
  baseUrl: string,
  opts: { cookie?: string; clipboard?: boolean } = {},
): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'automate-chromium-'));
  mkdirSync(screenshotDir, { recursive: true });
  const browser = await chromiumLaunch();
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.executablePath,
    env: browser.env,
    headless: true,
    args: [...ARGS, ...browser.args],
    viewport: { width: 1280, height: 800 },
  });
  if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  if (opts.cookie) {
    const [name, ...value] = opts.cookie.split(';')[0].split('=');
    await context.addCookies([{ name, value: value.join('='), url: baseUrl }]);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const consoleProblems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning')
      consoleProblems.push(`${msg.type()}: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => consoleProblems.push(`uncaught: ${err.message}`));
  return {
    context,
    page,
    screenshot: (name) => page.screenshot({ path: path.join(screenshotDir, name), fullPage: true }),
    consoleProblems,
    expectCleanConsole(allow = []) {
      const problems = consoleProblems.splice(0).filter((p) => !allow.some((re) => re.test(p)));
      if (problems.length) throw new Error(`The browser console reported:\n${problems.join('\n')}`);
    },
    /** Closes, then fails the test file on any console error or warning but Chromium's own line for an API 4xx. */
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      const problems = consoleProblems.splice(0).filter((p) => !EXPECTED_HTTP_ERROR.test(p));
      if (problems.length) throw new Error(`The browser console reported:\n${problems.join('\n')}`);
    },
  };
}

/** A section link in the studio's header (pages have breadcrumbs with the same words). */
export const navLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Studio' }).getByRole('link', { name, exact: true });
