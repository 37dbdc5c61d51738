/**
 * The audit log's filters and cursor paging, its validation, and that a tenant reads only
 * its own entries whatever it filters on.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditQuery } from '../src/audit/audit-log';
import { createDb } from '../src/db/client';
import { addMember, call, createToken, signup, type Session } from './helpers/api';

let owner: Session;
let other: Session;
const BASE_AT = Date.UTC(2026, 0, 1);

/** Entries written straight to D1 with known times, actions, actors and runs. */
async function seed(tenantId: string, rows: { at: number; action: string; actor: string; run?: string }[]) {
  const stmt = env.DB.prepare(
    `INSERT INTO audit_log (id, tenant_id, at, actor_type, actor_id, actor_label, action, run_id, context)
     VALUES (?, ?, ?, 'user', ?, ?, ?, ?, ?)`,
  );
  await env.DB.batch(
    rows.map((r, i) =>
      stmt.bind(
        `aud_seed_${tenantId}_${i}`,
        tenantId,
        r.at,
        `usr_${r.actor}`,
        `${r.actor}@example.com`,
        r.action,
        r.run ?? null,
        JSON.stringify({ n: i, apiKey: '********' }),
      ),
    ),
  );
}

beforeAll(async () => {
  owner = await signup('Audit Co');
  other = await signup('Other Co');
  // 30 entries a minute apart: actions alternate, three actors, runs on every third.
  await seed(
    owner.tenant.id,
    Array.from({ length: 30 }, (_, i) => ({
      at: BASE_AT + i * 60_000,
      action: i % 2 ? 'secret.rotate' : 'workflow.publish',
      actor: ['ana', 'ben', 'cy'][i % 3],
      run: i % 3 === 0 ? 'run_shared' : undefined,
    })),
  );
  // The other tenant has entries matching the same filters, same run id included.
  await seed(
    other.tenant.id,
    Array.from({ length: 5 }, (_, i) => ({
      at: BASE_AT + i * 60_000,
      action: 'secret.rotate',
      actor: 'ana',
      run: 'run_shared',
    })),
  );
});

const audit = (query: string, who: { session?: Session; token?: string } = { session: owner }) =>
  call('GET', `/api/audit?${query}`, who);
const seeded = (entries: any[]) => entries.filter((e) => e.id.startsWith('aud_seed_'));

describe('filters', () => {
  it('filters by exact action and by an action prefix', async () => {
    const exact = await audit('action=secret.rotate&limit=500');
    expect(exact.status).toBe(200);
    expect(exact.json.entries).toHaveLength(15);
    expect(new Set(exact.json.entries.map((e: any) => e.action))).toEqual(new Set(['secret.rotate']));
    const prefix = await audit('action=secret.*&limit=500');
    expect(prefix.json.entries.map((e: any) => e.id)).toEqual(exact.json.entries.map((e: any) => e.id));
    // `_` and `%` are plain characters in a prefix, never wildcards.
    expect((await audit('action=secret_*')).json.entries).toEqual([]);
  });

  it('filters by actor email (any case) or actor id', async () => {
    const byEmail = await audit('actor=BEN@example.com&limit=500');
    expect(byEmail.json.entries).toHaveLength(10);
    expect(new Set(byEmail.json.entries.map((e: any) => e.actorLabel))).toEqual(new Set(['ben@example.com']));
    const byId = await audit('actor=usr_ben&limit=500');
    expect(byId.json.entries.map((e: any) => e.id)).toEqual(byEmail.json.entries.map((e: any) => e.id));
  });

  it('filters by run and by time range (since inclusive, before exclusive)', async () => {
    const run = await audit('run=run_shared');
    expect(run.json.entries).toHaveLength(10);
    const range = await audit(`since=${BASE_AT + 5 * 60_000}&before=${BASE_AT + 10 * 60_000}`);
    expect(range.json.entries.map((e: any) => e.context.n)).toEqual([9, 8, 7, 6, 5]);
  });

  it('combines filters', async () => {
    const res = await audit(`action=workflow.publish&actor=ana@example.com&run=run_shared`);
    // i % 2 == 0, i % 3 == 0: 0, 6, 12, 18, 24.
    expect(res.json.entries.map((e: any) => e.context.n)).toEqual([24, 18, 12, 6, 0]);
  });

  it('returns entries with their context as written (secrets already masked)', async () => {
    const res = await audit('run=run_shared&limit=1');
    expect(res.json.entries[0].context).toEqual({ n: 27, apiKey: '********' });
  });
});

describe('cursor paging', () => {
  it('walks every entry once, newest first, and ends with a null cursor', async () => {
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await audit(`action=secret.*&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.json.entries);
      cursor = res.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen.map((e) => e.context.n)).toEqual([29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1]);
  });

  it('breaks ties within one millisecond by id, losing nothing', async () => {
    const t = await signup('Same Millisecond');
    await seed(
      t.tenant.id,
      Array.from({ length: 7 }, () => ({ at: BASE_AT, action: 'x.same', actor: 'ana' })),
    );
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await audit(`action=x.same&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { session: t });
      ids.push(...res.json.entries.map((e: any) => e.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
  });

  it('has no next page when the last page is exactly full', async () => {
    const res = await audit('run=run_shared&limit=10');
    expect(res.json.entries).toHaveLength(10);
    expect(res.json.nextCursor).toBeNull();
  });
});

describe('bad input', () => {
  it.each([
    ['cursor=not-a-cursor', 'query.cursor'],
    [`cursor=${btoa('1.x; DROP TABLE audit_log')}`, 'query.cursor'],
    ['action=secret rotate', 'query.action'],
    ['action=*', 'query.action'],
    ['since=yesterday', 'query.since'],
    ['since=100&before=50', 'query.before'],
    ['limit=0', 'query.limit'],
    ['limit=501', 'query.limit'],
  ])('answers 400 naming the field for %s', async (query, path) => {
    const res = await audit(query);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_request');
    expect(res.json.error.details.map((d: any) => d.path)).toContain(path);
  });
});

describe('isolation and permission', () => {
  it("never shows another tenant's entries, whatever the filter", async () => {
    for (const q of ['run=run_shared', 'actor=ana@example.com', 'action=secret.rotate', 'limit=500']) {
      const res = await audit(q, { session: other });
      expect(res.status).toBe(200);
      expect(seeded(res.json.entries).every((e: any) => e.id.startsWith(`aud_seed_${other.tenant.id}_`))).toBe(true);
      expect(res.text).not.toContain(owner.tenant.id);
    }
    const run = await audit('run=run_shared', { session: other });
    expect(run.json.entries).toHaveLength(5);
  });

  it("does not let a cursor from one tenant's page reach another tenant's entries", async () => {
    const page = await audit('limit=2');
    const res = await audit(`limit=500&cursor=${page.json.nextCursor}`, { session: other });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(`aud_seed_${owner.tenant.id}`);
  });

  it('is for admins and owners, and tokens with audit:read', async () => {
    expect((await audit('', { session: await addMember(owner, 'admin') })).status).toBe(200);
    for (const role of ['editor', 'viewer'] as const) {
      const res = await audit('', { session: await addMember(owner, role) });
      expect(res.status).toBe(403);
    }
    expect((await audit('', { token: await createToken(owner, ['audit:read']) })).status).toBe(200);
    expect((await audit('', { token: await createToken(owner, ['runs:read']) })).status).toBe(403);
  });
});

describe('query plans', () => {
  /** SQLite's plan for the query the route runs, as one line per step. */
  async function plan(q: Parameters<typeof auditQuery>[2]) {
    const { sql, params } = auditQuery(createDb(env.DB), owner.tenant.id, q).toSQL();
    const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return rows.results.map((r) => r.detail).join('\n');
  }

  it.each([
    [{ limit: 25 }, 'audit_tenant_at_idx'],
    [{ limit: 25, run: 'run_shared' }, 'audit_tenant_run_idx'],
    [{ limit: 25, action: 'secret.rotate' }, 'audit_tenant_action_idx'],
    [{ limit: 25, action: 'secret.*' }, 'audit_tenant_action_idx'],
    [{ limit: 25, actor: 'ana@example.com', since: BASE_AT }, 'audit_tenant_at_idx'],
  ])('reads %j through an index (%s), never scanning the table', async (q, index) => {
    const text = await plan(q);
    expect(text).toContain(index);
    expect(text).not.toMatch(/SCAN audit_log(?! USING)/);
  });
});
