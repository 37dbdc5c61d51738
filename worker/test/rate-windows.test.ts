/**
 * The fixed-window counters every rate limit uses (worker/src/lib/rate-windows.ts): counting
 * up, starting over at the window's end (the boundary pinned on both sides), several keys in
 * one batch, Retry-After rounding, checking without counting, clearing; the callers' keys
 * (which purposes share a count and which do not); and the minute cron's pruning of ended
 * windows, bounded per tick and isolated from the cron's other phases.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import worker from '../src/index';
import { createDb } from '../src/db/client';
import { clear, type Counter, hit, PRUNE_BUDGET, pruneExpiredWindows, waitFor } from '../src/lib/rate-windows';
import {
  clearAccount,
  clearMfaFailures,
  MAX_FAILURES_PER_ACCOUNT,
  MAX_FAILURES_PER_ADDRESS,
  MAX_MFA_FAILURES_PER_USER,
  mfaRetryAfterSeconds,
  recordFailure,
  recordMfaFailure,
  retryAfterSeconds,
} from '../src/auth/login-throttle';
import { MAX_PER_ADDRESS, takeMailSend } from '../src/accounts/mail-throttle';
import { takeDraft, WINDOW_MS as DRAFT_WINDOW_MS } from '../src/copilot/rate-limit';
import { signup } from './helpers/api';

const db = createDb(env.DB);
/** Long past, so every window these tests open by hand has ended before the pruning tests. */
const T0 = 1_000_000_000_000;
const W = 60_000;
let n = 0;
const counter = (limit: number, windowMs = W): Counter => ({ key: `test:k:${++n}`, limit, windowMs });

const row = (key: string) =>
  env.DB.prepare('SELECT count, resets_at AS resetsAt FROM rate_windows WHERE key = ?')
    .bind(key)
    .first<{ count: number; resetsAt: number }>();

async function hits(c: Counter, times: number, now: number): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < times; i++) waits.push(await hit(db, [c], now));
  return waits;
}

describe('counting', () => {
  it('counts up within the window and refuses each hit past the limit with the time left', async () => {
    const c = counter(3);
    expect(await hits(c, 3, T0)).toEqual([0, 0, 0]);
    expect(await hit(db, [c], T0 + 10_000)).toBe(50);
    expect(await hit(db, [c], T0 + 10_000)).toBe(50);
    expect(await row(c.key)).toEqual({ count: 5, resetsAt: T0 + W });
  });

  it('starts over at the window end exactly: its last millisecond still counts up', async () => {
    const c = counter(2);
    await hits(c, 2, T0);
    // One millisecond before the end: the same window, now past its limit.
    expect(await hit(db, [c], T0 + W - 1)).toBe(1);
    expect(await row(c.key)).toEqual({ count: 3, resetsAt: T0 + W });
    // At the end: a new window from this hit.
    expect(await hit(db, [c], T0 + W)).toBe(0);
    expect(await row(c.key)).toEqual({ count: 1, resetsAt: T0 + 2 * W });
  });

  it('starts over long after the window ended, the old count forgotten', async () => {
    const c = counter(1);
    await hits(c, 5, T0);
    expect(await hit(db, [c], T0 + 10 * W + 123)).toBe(0);
    expect(await row(c.key)).toEqual({ count: 1, resetsAt: T0 + 11 * W + 123 });
  });

  it('counts several keys in one batch, each with its own limit and window; the longest wait wins', async () => {
    const short = counter(1, 10_000);
    const long = counter(1, 120_000);
    const roomy = counter(100, 600_000);
    expect(await hit(db, [short, long, roomy], T0)).toBe(0);
    expect(await hit(db, [short, long, roomy], T0 + 1_000)).toBe(119);
    expect(await row(short.key)).toEqual({ count: 2, resetsAt: T0 + 10_000 });
    expect(await row(long.key)).toEqual({ count: 2, resetsAt: T0 + 120_000 });
    expect(await row(roomy.key)).toEqual({ count: 2, resetsAt: T0 + 600_000 });
    // Only the counters past their limit decide the wait: here the short one alone.
    const other = counter(100, 120_000);
    await hit(db, [other], T0);
    expect(await hit(db, [short, other], T0 + 2_000)).toBe(8);
    // One window over, another started anew: the live one still limits.
    expect(await hit(db, [short, long], T0 + 10_000)).toBe(110);
    expect(await row(short.key)).toEqual({ count: 1, resetsAt: T0 + 20_000 });
  });

  it('rounds the wait up to whole seconds, never 0 while limited', async () => {
    const c = counter(0, 5_000);
    expect(await hit(db, [c], T0)).toBe(5);
    expect(await hit(db, [c], T0 + 1)).toBe(5);
    expect(await hit(db, [c], T0 + 999)).toBe(5);
    expect(await hit(db, [c], T0 + 1_000)).toBe(4);
    expect(await hit(db, [c], T0 + 3_000)).toBe(2);
    expect(await hit(db, [c], T0 + 4_001)).toBe(1);
    expect(await hit(db, [c], T0 + 4_999)).toBe(1);
  });
});

describe('checking before counting', () => {
  it('limits once a live window has used its limit, counts nothing, and frees at the window end', async () => {
    const c = counter(2);
    const fresh = counter(2);
    expect(await waitFor(db, [c, fresh], T0)).toBe(0);
    await hit(db, [c], T0);
    expect(await waitFor(db, [c], T0 + 1)).toBe(0);
    await hit(db, [c], T0 + 1);
    expect(await waitFor(db, [c, fresh], T0 + 30_000)).toBe(30);
    expect(await waitFor(db, [c], T0 + W - 1)).toBe(1);
    expect(await waitFor(db, [c], T0 + W)).toBe(0);
    expect(await row(c.key)).toEqual({ count: 2, resetsAt: T0 + W });
    expect(await row(fresh.key)).toBeNull();
  });

  it('clears one key and no other', async () => {
    const a = counter(1);
    const b = counter(1);
    await hit(db, [a, b], T0);
    await clear(db, a.key);
    expect(await waitFor(db, [a], T0 + 1)).toBe(0);
    expect(await waitFor(db, [b], T0 + 1)).toBe(60);
    expect(await hit(db, [a], T0 + 2)).toBe(0);
  });
});

describe("the callers' keys", () => {
  it('share an address between failed passwords and wrong MFA codes, but not with mailed links', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) await recordFailure(db, `keys-${i}@example.com`, ip);
    expect(await retryAfterSeconds(db, 'keys-new@example.com', ip)).toBe(900);
    expect(await retryAfterSeconds(db, 'keys-new@example.com', null)).toBe(0);
    expect(await mfaRetryAfterSeconds(db, 'user_keys', ip)).toBe(900);
    expect(await takeMailSend(db, 'keys-new@example.com', ip)).toBe(0);
  });

  it('keep accounts and MFA users apart, each cleared on its own', async () => {
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) await recordFailure(db, 'locked@example.com', null);
    for (let i = 0; i < MAX_MFA_FAILURES_PER_USER; i++) await recordMfaFailure(db, 'user_locked', null);
    expect(await retryAfterSeconds(db, 'locked@example.com', null)).toBe(900);
    expect(await mfaRetryAfterSeconds(db, 'user_locked', null)).toBe(900);
    expect(await mfaRetryAfterSeconds(db, 'locked@example.com', null)).toBe(0);
    await clearAccount(db, 'locked@example.com');
    expect(await retryAfterSeconds(db, 'locked@example.com', null)).toBe(0);
    expect(await mfaRetryAfterSeconds(db, 'user_locked', null)).toBe(900);
    await clearMfaFailures(db, 'user_locked');
    expect(await mfaRetryAfterSeconds(db, 'user_locked', null)).toBe(0);
  });

  it('count mail per address whatever its case, and copilot drafts per tenant in one-minute windows', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) expect(await takeMailSend(db, 'Case@Example.com', null, T0)).toBe(0);
    expect(await takeMailSend(db, 'case@example.COM', null, T0)).toBe(900);
    expect(await takeDraft(db, 'tenant_a', 1, T0)).toBe(0);
    expect(await takeDraft(db, 'tenant_b', 1, T0)).toBe(0);
    expect(await takeDraft(db, 'tenant_a', 1, T0 + 500)).toBe(60);
    expect(await takeDraft(db, 'tenant_a', 1, T0 + DRAFT_WINDOW_MS)).toBe(0);
  });
});

async function minuteCron(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const windowsLike = async (prefix: string) =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM rate_windows WHERE key LIKE ?')
    .bind(`${prefix}%`)
    .first<number>('n'))!;

/** `n` windows under `prefix`, ended (or ending) at `resetsAt`, planted in one statement. */
async function plant(prefix: string, count: number, resetsAt: number) {
  await env.DB.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
     INSERT INTO rate_windows (key, count, resets_at) SELECT ? || i, 3, ? FROM s`,
  )
    .bind(count, prefix, resetsAt)
    .run();
}

describe('pruning ended windows', () => {
  it('deletes windows ended by now, keeps live ones, and stops at the budget', async () => {
    const now = Date.now();
    // What the tests above left ended goes first.
    await pruneExpiredWindows(db, now, { budget: 1_000_000 });
    await plant('prune:ended:', 7, now - 5 * W);
    await plant('prune:edge:', 2, now);
    await plant('prune:live:', 3, now + 1);
    const first = await pruneExpiredWindows(db, now, { budget: 5, chunk: 2 });
    expect(first).toEqual({ windows: 5, more: true });
    // Oldest first: the windows that ended long ago went before those ending just now.
    expect(await windowsLike('prune:ended:')).toBe(2);
    expect(await windowsLike('prune:edge:')).toBe(2);
    const second = await pruneExpiredWindows(db, now, { budget: 5, chunk: 2 });
    expect(second).toEqual({ windows: 4, more: false });
    expect(await windowsLike('prune:ended:')).toBe(0);
    expect(await windowsLike('prune:edge:')).toBe(0);
    expect(await windowsLike('prune:live:')).toBe(3);
  });

  it('runs in the minute cron, at most PRUNE_BUDGET a tick', async () => {
    const now = Date.now();
    await plant('cron:ended:', PRUNE_BUDGET + 10, now - W);
    await plant('cron:live:', 3, now + 10 * W);
    await minuteCron(now);
    expect(await windowsLike('cron:ended:')).toBe(10);
    await minuteCron(now + W);
    expect(await windowsLike('cron:ended:')).toBe(0);
    expect(await windowsLike('cron:live:')).toBe(3);
  });

  it('runs even when the phases before it fail, and its own failure stops nothing', async () => {
    await signup('Prune Anyway');
    const now = Date.now();
    await plant('isolated:ended:', 4, now - W);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    // The schedule and retention queries fail (their tables are gone for this invocation).
    await env.DB.prepare('ALTER TABLE workflow_schedules RENAME TO workflow_schedules_away').run();
    await env.DB.prepare('ALTER TABLE runs RENAME TO runs_away').run();
    try {
      await minuteCron(now);
    } finally {
      await env.DB.prepare('ALTER TABLE runs_away RENAME TO runs').run();
      await env.DB.prepare('ALTER TABLE workflow_schedules_away RENAME TO workflow_schedules').run();
    }
    const failed = errors.mock.calls.map((c) => String(c[0]));
    expect(failed.some((m) => m.includes('phase \\"schedules\\" failed'))).toBe(true);
    expect(failed.some((m) => m.includes('phase \\"retention\\" failed'))).toBe(true);
    expect(await windowsLike('isolated:ended:')).toBe(0);

    errors.mockClear();
    await env.DB.prepare('ALTER TABLE rate_windows RENAME TO rate_windows_away').run();
    try {
      await minuteCron(now + W);
    } finally {
      await env.DB.prepare('ALTER TABLE rate_windows_away RENAME TO rate_windows').run();
    }
    const logged = errors.mock.calls.map((c) => String(c[0]));
    errors.mockRestore();
    expect(logged.filter((m) => m.includes('phase \\"rate-windows\\" failed'))).toHaveLength(1);
  });
});
