/**
 * Screenshots for the docs (docs/screenshots/, linked from the README and docs/). A plain
 * `npm test` must not rewrite tracked files, so they land in docs/screenshots only with
 * `UPDATE_SCREENSHOTS=1` (e.g. `UPDATE_SCREENSHOTS=1 npm run test:e2e`); otherwise in a
 * temporary folder, so the picture is still taken and checked on every run.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { screenshotDir } from './browser';
import { root } from './helpers';

export const docsScreenshotDir =
  process.env.UPDATE_SCREENSHOTS === '1' ? path.join(root, 'docs/screenshots') : path.join(screenshotDir, 'docs');

/** The visible viewport (not the whole page) as `name`; answers the file's path and size in bytes. */
export async function docsShot(page: Page, name: string): Promise<{ file: string; bytes: number }> {
  mkdirSync(docsScreenshotDir, { recursive: true });
  const file = path.join(docsScreenshotDir, name);
  const before = Date.now();
  await page.screenshot({ path: file, fullPage: false });
  const stat = statSync(file);
  // A stale file from an earlier run must not pass for this one.
  if (stat.mtimeMs < before - 1000 || stat.size === 0) throw new Error(`screenshot ${file} was not written`);
  return { file, bytes: stat.size };
}
