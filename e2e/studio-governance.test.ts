/**
 * Governance and the dashboard in Chromium against the real stack: the home page's charts
 * show the runs this test starts (some failed), the Audit Log filters and pages them with
 * secrets masked, and a viewer added on the Members page sees no write controls, then
 * gains some when made editor, then is signed out when removed. Screenshots of the
 * dashboard and the audit log go to docs/screenshots/ with UPDATE_SCREENSHOTS=1 (docs-screenshot.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { navLink, openBrowser, type Browser } from './browser';
import { docsShot } from './docs-screenshot';
import { mailTo, ok, signup, type Account } from './helpers';

const baseUrl = inject('baseUrl');
// The signed-out page's own /api/auth/me answer; the only console line a test may expect.
const SIGNED_OUT = /status of 401/;

/** The value of a secret that ends up in an error message; the studio must only ever show it masked. */
const secretPath = `s3cr3t-${randomBytes(8).toString('hex')}`;

const healthy = {
  key: 'healthy',
  name: 'Health check',
  trigger: { type: 'api' },
  steps: [
    {
      id: 'ping',
      type: 'action',
      connector: 'http',
      action: 'request',
      params: { method: 'GET', url: `${baseUrl}/healthz` },
    },
  ],
};
// Port 9 has no listener: the call fails at once, and its error names the URL, secret included.
const broken = {
  key: 'broken',
  name: 'Broken call',
  trigger: { type: 'api' },
  steps: [
    {
      id: 'call',
      type: 'action',
      connector: 'http',
      action: 'request',
      secrets: { PATH: { $secret: 'FAIL_PATH' } },
      params: { method: 'GET', url: 'http://127.0.0.1:9/{{ secrets.PATH }}' },
    },
  ],
};

let owner: Account;
let browser: Browser;
let page: Page;
const failedRuns: string[] = [];

async function finished(runId: string): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const run = await ok(owner.api.GET('/runs/{id}', { params: { path: { id: runId } } }));
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  owner = await signup(baseUrl, 'Governance Co');
  await ok(owner.api.PUT('/secrets/{key}', { params: { path: { key: 'FAIL_PATH' } }, body: { value: secretPath } }));
  for (const file of [healthy, broken])
    await ok(owner.api.POST('/workflows/import', { params: { query: { publish: 'true' } }, body: file as any }), 201);
  const start = async (key: string) =>
    (await ok(owner.api.POST('/workflows/{key}/runs', { params: { path: { key } }, body: { payload: {} } }))).runId;
  const ids = [
    await start('healthy'),
    await start('broken'),
    await start('healthy'),
    await start('broken'),
    await start('healthy'),
  ];
  const runs = await Promise.all(ids.map(finished));
  for (const r of runs) if (r.status === 'failed') failedRuns.push(r.id);
  expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded', 'failed', 'succeeded']);

  browser = await openBrowser(baseUrl, { cookie: owner.cookie });
  page = browser.page;
});

afterEach(() => {
  browser?.expectCleanConsole();
});

afterAll(async () => {
  await browser?.close();
});

describe('dashboard', () => {
  it('is the home page: totals, both charts drawn, the hour with the runs, workflows below', async () => {
    await page.goto(`${baseUrl}/studio/`);
    await expect.poll(() => page.getByTestId('total-runs').textContent(), { timeout: 10_000 }).toBe('5');
    expect(await page.getByTestId('total-failed').textContent()).toBe('2');
    expect(await page.getByTestId('failure-rate').textContent()).toBe('40%');

    // Chart.js drew on both canvases: count painted pixels, and the failed runs' red on the bars.
    await expect.poll(() => page.locator('.charts').getAttribute('data-drawn')).toBe('true');
    const pixels = async (id: string) =>
      page.getByTestId(id).evaluate((canvas: HTMLCanvasElement) => {
        // A copy to read from, so the chart's own canvas is not slowed down (and Chrome does not warn).
        const copy = document.createElement('canvas');
        [copy.width, copy.height] = [canvas.width, canvas.height];
        const ctx = copy.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(canvas, 0, 0);
        const { data } = ctx.getImageData(0, 0, copy.width, copy.height);
        let painted = 0;
        let red = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] > 0) painted++;
          if (data[i] === 180 && data[i + 1] === 35 && data[i + 2] === 24) red++;
        }
        return { painted, red };
      });
    const runsChart = await pixels('runs-chart');
    expect(runsChart.painted).toBeGreaterThan(500);
    expect(runsChart.red).toBeGreaterThan(20);
    expect((await pixels('failure-chart')).painted).toBeGreaterThan(500);

    // The numbers behind the chart: this hour has the five runs.
    const hour = page.getByTestId('hour-row');
    expect(await hour.count()).toBe(1);
    expect(await hour.getByTestId('hour-total').textContent()).toBe('5');
    expect(await hour.getByTestId('hour-failed').textContent()).toBe('2');

    const slow = await page.getByTestId('slow-step').allTextContents();
    expect(slow.join('\n')).toMatch(/healthy \/ ping/);
    expect(slow.join('\n')).toMatch(/broken \/ call/);

    // The workflow list is still on the home page, below.
    await expect.poll(() => page.getByTestId('workflow-row').count()).toBe(2);
    expect(await page.getByTestId('tenant-name').textContent()).toBe('Governance Co');

    const { bytes } = await docsShot(page, 'dashboard.png');
    expect(bytes).toBeLessThan(400_000);
  });

  it('lists the latest failures, masked, each linking to its run page', async () => {
    const failures = page.getByTestId('failure');
    expect(await failures.count()).toBe(2);
    const text = await page.getByTestId('latest-failures').textContent();
    expect(text).toContain(failedRuns[1]);
    expect(text).toContain(failedRuns[0]);
    expect(text).not.toContain(secretPath);
    await page.getByRole('link', { name: failedRuns[0] }).click();
    await page.waitForURL(`${baseUrl}/studio/runs/${failedRuns[0]}`);
    expect(await page.getByTestId('run-status').textContent()).toBe('failed');
  });
});

describe('audit log', () => {
  const rows = () => page.getByTestId('audit-row');

  it("opens from a run page filtered to that run, with the step's error masked", async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${baseUrl}/studio/settings/audit?run=${failedRuns[0]}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Audit Log');
    expect(await page.getByLabel('Run id').inputValue()).toBe(failedRuns[0]);
    await expect.poll(() => rows().count()).toBeGreaterThan(0);
    const actions = await rows().evaluateAll((els) => els.map((el) => el.getAttribute('data-action')));
    expect(actions).toContain('step.attempt');
    expect((await page.locator('main').textContent())?.includes(failedRuns[1])).toBe(false);

    const attempt = rows()
      .filter({ has: page.locator('code', { hasText: 'step.attempt' }) })
      .first();
    await attempt.locator('summary').click();
    const context = attempt.locator('pre');
    expect(await context.textContent()).toContain('********');
    expect(await attempt.locator('mark.masked').count()).toBeGreaterThan(0);
    expect(await page.content()).not.toContain(secretPath);
  });

  it('filters by action prefix and by actor', async () => {
    await page.goto(`${baseUrl}/studio/settings/audit`);
    await page.getByLabel('Action').fill('workflow.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/action=workflow\.\*/);
    await expect
      .poll(async () => new Set(await rows().evaluateAll((els) => els.map((el) => el.getAttribute('data-action')))))
      .toEqual(new Set(['workflow.import', 'workflow.publish']));

    await page.getByLabel('Action').fill('');
    await page.getByLabel('Actor').fill(owner.email);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/actor=/);
    await expect.poll(() => rows().count()).toBeGreaterThan(0);
    for (const text of await rows().allTextContents()) expect(text).toContain(owner.email);

    // A time range with nothing in it says so in words.
    const future = new Date(Date.now() + 3_600_000);
    const local = new Date(future.getTime() - future.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('From').fill(local);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/from=/);
    await expect.poll(() => page.getByTestId('audit-empty').textContent()).toContain('No entries match these filters');
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL(`${baseUrl}/studio/settings/audit`);
  });

  it('pages with "Load older entries" until the end, each entry once', async () => {
    // Browsing writes no audit entries, so the API's list now is what the pages must add up to.
    const all = (await ok(owner.api.GET('/audit', { params: { query: { limit: 500 } } }))).entries.map((e) => e.id);
    expect(all.length).toBeGreaterThan(10);
    await page.getByLabel('Per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/limit=10/);
    await expect.poll(() => rows().count()).toBe(10);
    let pages = 1;
    while (await page.getByRole('button', { name: 'Load older entries' }).count()) {
      const before = await rows().count();
      await page.getByRole('button', { name: 'Load older entries' }).click();
      await expect.poll(() => rows().count()).toBeGreaterThan(before);
      pages++;
    }
    expect(await page.getByTestId('audit-end').isVisible()).toBe(true);
    const shown = await rows().evaluateAll((els) => els.map((el) => el.getAttribute('data-id')));
    expect(shown).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 10));

    // For the docs: the whole log, a failed step's context open with its secret masked.
    await page.goto(`${baseUrl}/studio/settings/audit`);
    await expect.poll(() => rows().count()).toBe(all.length);
    const failedAttempt = rows().filter({ hasText: failedRuns[1] }).first();
    await failedAttempt.locator('summary').click();
    await page.setViewportSize({ width: 1280, height: 1100 });
    const { bytes } = await docsShot(page, 'audit-log.png');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(bytes).toBeLessThan(400_000);
  });

  it('is usable from the keyboard with a visible focus ring', async () => {
    await page.goto(`${baseUrl}/studio/settings/audit`);
    await page.getByLabel('Action').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { id: el.id, outline: style.outlineStyle, width: style.outlineWidth };
    });
    expect(focused.id).toBe('f-actor');
    expect(focused.outline).not.toBe('none');
  });
});

describe('members and roles', () => {
  const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
  const viewerPassword = 'a long viewer passphrase';
  let viewer: Browser;
  const row = (email: string) => page.locator(`[data-testid="member-row"][data-email="${email}"]`);

  afterAll(async () => {
    await viewer?.close();
  });

  it('invites a viewer from Admin › Members', async () => {
    await page.goto(`${baseUrl}/studio/`);
    await navLink(page, 'Admin').click();
    await page.waitForURL(`${baseUrl}/studio/settings/tokens`);
    await page.getByRole('navigation', { name: 'Governance' }).getByRole('link', { name: 'Members' }).click();
    await page.waitForURL(`${baseUrl}/studio/settings/members`);
    expect(await row(owner.email).textContent()).toMatch(/you.*owner/s);
    // The only owner can be neither demoted nor removed: no controls on that row.
    expect(await row(owner.email).getByRole('button').count()).toBe(0);

    await page.getByLabel('Email').fill(viewerEmail);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain(`Invitation mailed to ${viewerEmail}`);
    await page.locator(`[data-testid="invitation-row"][data-email="${viewerEmail}"]`).waitFor();
  });

  it('lets the viewer join from the mailed link: no write controls anywhere, no governance pages', async () => {
    viewer = await openBrowser(baseUrl);
    const v = viewer.page;
    // The invitee follows the mailed link, chooses a name and password, and lands signed in.
    const link = /https?:\/\/\S+/.exec((await mailTo(baseUrl, viewerEmail, 'invitation')).text)![0];
    await v.goto(link);
    await v.getByLabel('Your name').fill('Val Viewer');
    await v.getByLabel('Choose a password').fill(viewerPassword);
    await v.getByRole('button', { name: 'Join as viewer' }).click();
    await v.waitForURL(`${baseUrl}/studio/`);
    await expect.poll(() => v.getByTestId('total-runs').textContent(), { timeout: 10_000 }).toBe('5');

    const nav = await v.getByRole('navigation', { name: 'Studio' }).getByRole('link').allTextContents();
    expect(nav).toEqual(['Dashboard', 'Runs']);

    await v.getByRole('link', { name: 'Broken call' }).click();
    await v.waitForURL(`${baseUrl}/studio/workflows/broken`);
    expect(await v.getByTestId('read-only').isVisible()).toBe(true);
    for (const name of ['Save draft', 'Publish', 'Run', 'Dry run', 'Regenerate', 'Activate'])
      expect(await v.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await v.getByTestId('draft').getAttribute('readonly')).not.toBeNull();

    await v.goto(`${baseUrl}/studio/runs/${failedRuns[0]}`);
    await expect.poll(() => v.getByTestId('run-status').textContent(), { timeout: 10_000 }).toBe('failed');
    expect(await v.getByRole('button', { name: 'Retry from failed step' }).count()).toBe(0);
    expect(await v.getByRole('link', { name: 'Audit log' }).count()).toBe(0);

    await v.goto(`${baseUrl}/studio/rules`);
    await v.getByTestId('read-only').waitFor();
    expect(await v.getByRole('button', { name: 'Test rule' }).count()).toBe(0);

    // Typing the editor's address draws the canvas and panels read-only.
    await v.goto(`${baseUrl}/studio/wizard/broken`);
    await v.getByTestId('editor-readonly').waitFor();
    const callNode = v.locator('[data-testid="canvas-node"][data-step="call"]');
    await callNode.waitFor();
    expect(await v.getByRole('region', { name: 'Palette' }).count()).toBe(0);
    expect(await v.getByTestId('copilot-panel').count()).toBe(0);
    expect(await v.locator('.svelte-flow__handle.connectable').count()).toBe(0);
    for (const name of ['Save draft', 'Publish', 'Undo', 'Redo', 'Rename', 'Disable', 'Disable…', 'Delete…'])
      expect(await v.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await v.getByTestId('workflow-name-input').getAttribute('readonly')).not.toBeNull();
    await callNode.click();
    await v.getByTestId('node-panel').waitFor();
    expect(await v.getByTestId('step-id').isDisabled()).toBe(true);
    await v.keyboard.press('Delete');
    expect(await callNode.count()).toBe(1);
    // And the new-workflow address says why there is nothing to start.
    await v.goto(`${baseUrl}/studio/wizard/`);
    expect(await v.getByTestId('wizard-not-allowed').textContent()).toContain('cannot create workflows');
    expect(await v.getByTestId('start-blank').count()).toBe(0);

    // Typing a governance address shows why, and asks the API for nothing it would refuse.
    for (const p of ['members', 'audit', 'tokens', 'secrets']) {
      await v.goto(`${baseUrl}/studio/settings/${p}`);
      await expect
        .poll(() => v.getByRole('heading', { level: 1 }).textContent(), { timeout: 10_000 })
        .toBe('Not available to your role');
      expect(await v.getByRole('alert').textContent()).toContain('for owners and admins; you are viewer');
    }
    viewer.expectCleanConsole([SIGNED_OUT]);
  });

  it('changes the role to editor: the member gets workflow controls, still no governance', async () => {
    // The viewer joined in their own browser: the owner's list shows them after a reload.
    await page.reload();
    expect(await row(viewerEmail).getByLabel(`Role of ${viewerEmail}`).inputValue()).toBe('viewer');
    expect(await page.locator(`[data-testid="invitation-row"][data-email="${viewerEmail}"]`).count()).toBe(0);
    await row(viewerEmail).getByLabel(`Role of ${viewerEmail}`).selectOption('editor');
    await expect.poll(() => page.getByRole('status').textContent()).toContain(`${viewerEmail} is now editor`);
    const v = viewer.page;
    await v.goto(`${baseUrl}/studio/workflows/broken`);
    await expect.poll(() => v.getByRole('button', { name: 'Save draft' }).count()).toBe(1);
    const nav = await v.getByRole('navigation', { name: 'Studio' }).getByRole('link').allTextContents();
    expect(nav).toEqual(['Dashboard', 'Runs', 'Rule Tester']);
    viewer.expectCleanConsole();
  });

  it('removes the member: their session ends at once', async () => {
    page.once('dialog', (d) => d.accept());
    await row(viewerEmail)
      .getByRole('button', { name: `Remove ${viewerEmail}` })
      .click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain(`${viewerEmail} removed`);
    expect(await row(viewerEmail).count()).toBe(0);

    const v = viewer.page;
    await v.reload();
    await v.waitForURL(`${baseUrl}/studio/login`);
    viewer.expectCleanConsole([SIGNED_OUT]);
    const members = (await ok(owner.api.GET('/members'))).members.map((m) => m.email);
    expect(members).toEqual([owner.email]);
  });
});

describe('narrow screens', () => {
  it('fits the dashboard, audit log, members pages, wizard and editor in 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const p of ['', 'settings/audit', 'settings/members', 'settings/tokens', 'wizard/', 'wizard/broken']) {
        await page.goto(`${baseUrl}/studio/${p}`);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await browser.screenshot(`narrow-${p.replace('/', '-') || 'home'}.png`);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width, `/studio/${p}`).toBeLessThanOrEqual(390);
      }
      const fits = async (what: string) => {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width, what).toBeLessThanOrEqual(390);
      };
      const within = async (what: string, testId: string) => {
        const box = (await page.getByTestId(testId).boundingBox())!;
        expect(box.x, what).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, what).toBeLessThanOrEqual(390);
      };
      // The editor with a node's panel open: palette, canvas and panel stack in one column.
      await page.locator('[data-testid="canvas-node"][data-step="call"]').click();
      await page.getByTestId('node-panel').waitFor();
      await within('node panel', 'node-panel');
      await within('canvas', 'editor-canvas');
      await fits('editor with the node panel');
      await browser.screenshot('narrow-editor-panel.png');
      // A blank start in the wizard opens the same editor, palette included.
      await page.goto(`${baseUrl}/studio/wizard/`);
      await page.getByTestId('new-name').fill('Narrow flow');
      await page.getByTestId('start-blank').click();
      await page.getByTestId('workflow-editor').waitFor();
      await page.getByRole('region', { name: 'Palette' }).waitFor();
      await within('canvas of a new workflow', 'editor-canvas');
      await fits('new workflow editor');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
