/**
 * The npm fallback for machines without Debian's chromium (chromium-path.ts) must launch
 * and render, here too, where Debian's exists: `AUTOMATE_CHROMIUM=` forces it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

describe('Chromium from @sparticuz/chromium', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.stubEnv('AUTOMATE_CHROMIUM', '');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('is chosen when AUTOMATE_CHROMIUM is set empty, and renders a page', async () => {
    const { chromiumLaunch } = await import('./chromium-path');
    const launch = await chromiumLaunch();
    expect(launch.source).toBe('@sparticuz/chromium');
    expect(launch.executablePath).not.toBe('/usr/bin/chromium');

    const { openBrowser } = await import('./browser');
    const browser = await openBrowser('http://127.0.0.1');
    try {
      await browser.page.setContent(
        '<main><h1>Fallback</h1><button onclick="this.textContent=2+2">add</button></main>',
      );
      await browser.page.getByRole('button', { name: 'add' }).click();
      await expect(browser.page.getByRole('button', { name: '4' }).textContent()).resolves.toBe('4');
      const version = browser.context.browser()?.version() ?? (await browser.page.evaluate(() => navigator.userAgent));
      expect(version).toMatch(/\d+\./);
    } finally {
      await browser.close();
    }
  });
});
