/**
 * Migration 0012 moves the three counter tables (login_attempts, mail_send_counters,
 * copilot_usage) into rate_windows: windows still running keep their counts under the new
 * keys, so the deploy resets nobody's limit, and the old tables are dropped. Its own file:
 * it rebuilds the old tables in this file's database and runs the migration's statements again.
 */
import { env } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { retryAfterSeconds } from '../src/auth/login-throttle';
import { takeMailSend } from '../src/accounts/mail-throttle';
import { takeDraft } from '../src/copilot/rate-limit';

const MIN = 60_000;

it('carries running windows over under the new keys, leaves ended ones, and drops the old tables', async () => {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0012_'));
  expect(migration?.name).toBe('0012_rate_windows.sql');
  const now = Date.now();
  // The database as it was before 0012, with live and ended windows of each kind.
  await env.DB.batch(
    [
      'DROP TABLE rate_windows',
      'CREATE TABLE login_attempts (key text PRIMARY KEY NOT NULL, window_start integer NOT NULL, failures integer NOT NULL)',
      'CREATE TABLE mail_send_counters (key text PRIMARY KEY NOT NULL, window_start integer NOT NULL, sends integer NOT NULL)',
      'CREATE TABLE copilot_usage (tenant_id text PRIMARY KEY NOT NULL, window_start integer NOT NULL, drafts integer NOT NULL)',
      `INSERT INTO login_attempts VALUES ('acct:kept@example.com', ${now - 5 * MIN}, 10),
        ('ip:203.0.113.9', ${now - 14 * MIN}, 7), ('mfa:user_1', ${now - 16 * MIN}, 10)`,
      `INSERT INTO mail_send_counters VALUES ('addr:kept@example.com', ${now - MIN}, 5), ('ip:203.0.113.9', ${now - 20 * MIN}, 30)`,
      `INSERT INTO copilot_usage VALUES ('tenant_live', ${now - 10_000}, 20), ('tenant_ended', ${now - 2 * MIN}, 20)`,
    ].map((q) => env.DB.prepare(q)),
  );
  for (const query of migration!.queries) await env.DB.prepare(query).run();

  const rows = await env.DB.prepare('SELECT key, count, resets_at AS resetsAt FROM rate_windows ORDER BY key').all();
  expect(rows.results).toEqual([
    { key: 'copilot:tenant:tenant_live', count: 20, resetsAt: now - 10_000 + MIN },
    { key: 'login:acct:kept@example.com', count: 10, resetsAt: now + 10 * MIN },
    { key: 'login:ip:203.0.113.9', count: 7, resetsAt: now + MIN },
    { key: 'mail:addr:kept@example.com', count: 5, resetsAt: now + 14 * MIN },
  ]);
  const old = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE name IN ('login_attempts', 'mail_send_counters', 'copilot_usage')",
  ).all();
  expect(old.results).toEqual([]);

  // The callers read the carried counts as their own.
  const db = createDb(env.DB);
  expect(await retryAfterSeconds(db, 'kept@example.com', null)).toBeGreaterThan(590);
  expect(await takeMailSend(db, 'kept@example.com', null)).toBeGreaterThan(830);
  expect(await takeDraft(db, 'tenant_live', 20)).toBeGreaterThan(45);
  expect(await takeDraft(db, 'tenant_ended', 20)).toBe(0);
});
