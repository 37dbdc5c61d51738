/**
 * Tries to cross every line: for every /api route, another tenant's objects (404),
 * no credentials (401), a token without the scope (403), a role below the route's (403).
 * The route table is checked against /api/openapi.json so a new route cannot skip it.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import orderFlow from '../../workflows/order_flow.json';
import { ROLES, SCOPES } from '../src/auth/principal';
import { addMember, call, createToken, login, putSecrets, signup } from './helpers/api';
import { ROUTES, type Fixture, type RouteCase } from './helpers/route-table';

const ALL_SCOPES = [...SCOPES];

let a: Fixture;
let b: Fixture;

async function fixture(name: string): Promise<Fixture> {
  const owner = await signup(name);
  await putSecrets(owner);
  const members = {
    owner,
    admin: await addMember(owner, 'admin'),
    editor: await addMember(owner, 'editor'),
    viewer: await addMember(owner, 'viewer'),
  };
  const fullToken = await createToken(owner, ALL_SCOPES, 'full');
  const spareToken = await call('POST', '/api/tokens', { session: owner, body: { name: 'spare' } });
  // A key only this tenant has, so another tenant naming it reaches nothing of its own.
  const workflowKey = `flow_${name.toLowerCase().replace(/\W+/g, '_')}`;
  await call('POST', '/api/workflows/import?publish=true', {
    token: fullToken,
    body: { ...orderFlow, key: workflowKey },
  });
  const detail = await call('GET', `/api/workflows/${workflowKey}`, { token: fullToken });
  const run = await call('POST', `/api/workflows/${workflowKey}/runs`, {
    token: fullToken,
    body: { payload: { total: 10 } },
  });
  const secretKey = `ONLY_${name.toUpperCase().replace(/\W+/g, '_')}`;
  await putSecrets(owner, { [secretKey]: `value-of-${secretKey}` });
  const invitation = await call('POST', '/api/invitations', {
    session: owner,
    body: { email: `pending-${crypto.randomUUID()}@example.com`, role: 'viewer' },
  });
  return {
    invitationId: invitation.json.id,
    members,
    fullToken,
    tokenId: spareToken.json.id,
    workflowKey,
    hookId: detail.json.hookId,
    runId: run.json.runId,
    secretKey,
  };
}

beforeAll(async () => {
  a = await fixture('Tenant A');
  b = await fixture('Tenant B');
});

const filled = (r: RouteCase, f: Fixture) => r.path(f);

describe('route table', () => {
  it('covers every route in the OpenAPI document', async () => {
    const doc = await call('GET', '/api/openapi.json');
    const documented = Object.entries(doc.json.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} /api${p}`),
    );
    const covered = ROUTES.map((r) => `${r.method} ${r.template}`);
    expect(documented.sort()).toEqual([...covered].sort());
  });
});

describe.each(ROUTES.filter((r) => r.permission !== 'public'))('$method $template', (route) => {
  it('answers 401 without credentials', async () => {
    const res = await call(route.method, filled(route, a), { body: route.body?.(a) });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('unauthorized');
  });

  it('answers 401 for a bogus or foreign-format token', async () => {
    for (const token of ['atm_not-a-real-token-at-all-000000000000', 'sk_live_whatever']) {
      const res = await call(route.method, filled(route, a), { token, body: route.body?.(a) });
      expect(res.status).toBe(401);
    }
  });

  it('answers 403 to a token without the scope', async () => {
    if (route.permission === 'public' || route.permission.scope === 'any') return;
    const need = route.permission.scope;
    const scopes = ALL_SCOPES.filter((s) => s !== need);
    const token = await createToken(a.members.owner, scopes, `no ${need ?? 'access'}`);
    const res = await call(route.method, filled(route, a), { token, body: route.body?.(a) });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('forbidden');
  });

  it("answers 403 to roles below the route's", async () => {
    if (route.permission === 'public') return;
    const below = ROLES.slice(0, ROLES.indexOf(route.permission.role));
    for (const role of below) {
      const res = await call(route.method, filled(route, a), { session: a.members[role], body: route.body?.(a) });
      expect(res.status, `${role} on ${route.method} ${route.template}`).toBe(403);
    }
  });

  if (route.crossTenant === 'object')
    it("answers 404 for another tenant's object, never its data", async () => {
      // Tenant B's owner (and B's full token, where tokens may call the route) aim at A's objects.
      const tokensAllowed = route.permission !== 'public' && route.permission.scope !== undefined;
      for (const creds of [{ session: b.members.owner }, ...(tokensAllowed ? [{ token: b.fullToken }] : [])]) {
        const res = await call(route.method, filled(route, a), { ...creds, body: route.body?.(a) });
        expect(res.status, `${route.method} ${route.template} as B`).toBe(404);
        expect(res.json.error.code).toMatch(/^(workflow|version|run|secret|token|member|invitation)_not_found$/);
        expect(res.text).not.toContain(a.hookId);
      }
    });

  if (route.crossTenant === 'own-key')
    it("keeps keys per tenant: the same key never reaches another tenant's object", async () => {
      // A third tenant (so A and B stay as the other cases expect) uses A's key.
      const c = await signup('Tenant C');
      const res = await call(route.method, filled(route, a), { session: c, body: route.body?.(a) });
      expect(res.status).toBeLessThan(300);
      expect(res.text).not.toContain(a.hookId);
      const mine = await call('GET', `/api/workflows/${a.workflowKey}`, { token: a.fullToken });
      expect(mine.json.hookId).toBe(a.hookId);
      expect(mine.json.draft.name).toBe('High value order flow');
    });
});

describe('isolation of secrets', () => {
  it('keeps secret keys per tenant: another tenant writing the same key leaves ours alone', async () => {
    const c = await signup('Tenant C2');
    const res = await call('PUT', `/api/secrets/${a.secretKey}`, { session: c, body: { value: 'from-tenant-c' } });
    expect(res.status).toBe(201);
    const mine = await call('GET', '/api/secrets', { session: a.members.owner });
    expect(mine.json.secrets.find((s: any) => s.key === a.secretKey)).toMatchObject({ version: 1 });
    const theirs = await call('GET', '/api/secrets', { session: b.members.owner });
    expect(theirs.json.secrets.map((s: any) => s.key)).not.toContain(a.secretKey);
  });
});

describe('isolation of lists', () => {
  it('shows a tenant only its own workflows, tokens, members and audit', async () => {
    const wf = await call('GET', '/api/workflows', { session: b.members.owner });
    expect(wf.json.workflows.map((w: any) => w.hookId)).toEqual([b.hookId]);
    const tokens = await call('GET', '/api/tokens', { session: b.members.owner });
    expect(tokens.json.tokens.map((t: any) => t.id)).not.toContain(a.tokenId);
    const members = await call('GET', '/api/members', { session: b.members.owner });
    expect(members.json.members.map((m: any) => m.email)).not.toContain(a.members.owner.email);
    const audit = await call('GET', '/api/audit', { session: b.members.owner });
    expect(JSON.stringify(audit.json)).not.toContain(a.members.owner.email);
  });

  it("does not let a tenant revoke another tenant's token", async () => {
    const res = await call('DELETE', `/api/tokens/${a.tokenId}`, { session: b.members.owner });
    expect(res.status).toBe(404);
    const still = await call('GET', '/api/tokens', { session: a.members.owner });
    expect(still.json.tokens.find((t: any) => t.id === a.tokenId).revokedAt).toBeNull();
  });
});

describe('tokens', () => {
  it('stops working the moment it is revoked', async () => {
    const owner = await signup();
    const created = await call('POST', '/api/tokens', { session: owner, body: { name: 'ci' } });
    const token = created.json.token;
    expect((await call('GET', '/api/workflows', { token })).status).toBe(200);
    expect((await call('DELETE', `/api/tokens/${created.json.id}`, { session: owner })).status).toBe(200);
    const after = await call('GET', '/api/workflows', { token });
    expect(after.status).toBe(401);
  });

  it('is stored hashed and never listed', async () => {
    const owner = await signup();
    const created = await call('POST', '/api/tokens', { session: owner, body: { name: 'ci' } });
    const rows = await env.DB.prepare('SELECT * FROM api_tokens WHERE tenant_id = ?').bind(owner.tenant.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(created.json.token);
    expect(JSON.stringify(rows.results)).not.toContain(created.json.token.slice(10));
    const list = await call('GET', '/api/tokens', { session: owner });
    expect(list.json.tokens[0].prefix).toBe(created.json.token.slice(0, 10));
    expect(JSON.stringify(list.json)).not.toContain(created.json.token);
  });

  it('records last use', async () => {
    const owner = await signup();
    const token = await createToken(owner);
    await call('GET', '/api/workflows', { token });
    const list = await call('GET', '/api/tokens', { session: owner });
    expect(list.json.tokens[0].lastUsedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('cannot mint tokens', async () => {
    const owner = await signup();
    const token = await createToken(owner, ALL_SCOPES);
    const res = await call('POST', '/api/tokens', { token, body: { name: 'escalate' } });
    expect(res.status).toBe(403);
  });
});

describe('sessions', () => {
  it('sets an HttpOnly, SameSite=Lax cookie, Secure outside local dev', async () => {
    const res = await call('POST', '/api/auth/signup', {
      body: { tenant: 'Cookie Co', email: `c-${crypto.randomUUID()}@example.com`, password: 'correct horse battery' },
    });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
  });

  it('stores passwords as salted PBKDF2 hashes', async () => {
    const owner = await signup();
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE email = ?')
      .bind(owner.email)
      .first<{ password_hash: string }>();
    expect(row!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row!.password_hash).not.toContain(owner.password);
  });

  it('refuses cookie-authenticated writes from another origin or with no Origin (CSRF)', async () => {
    const owner = await signup();
    const foreign = await call('POST', '/api/tokens', {
      session: owner,
      headers: { origin: 'https://evil.example' },
      body: { name: 'x' },
    });
    expect(foreign.status).toBe(403);
    const none = await call('POST', '/api/tokens', { headers: { cookie: owner.cookie }, body: { name: 'x' } });
    expect(none.status).toBe(403);
    const same = await call('POST', '/api/tokens', { session: owner, body: { name: 'x' } });
    expect(same.status).toBe(201);
  });

  it('ends the session on logout', async () => {
    const owner = await signup();
    expect((await call('POST', '/api/auth/logout', { session: owner })).status).toBe(200);
    expect((await call('GET', '/api/auth/me', { session: owner })).status).toBe(401);
    const again = await login(owner.email);
    expect((await call('GET', '/api/auth/me', { session: again })).status).toBe(200);
  });
});

describe('login', () => {
  it('answers the same for a wrong password and an unknown email, and audits both', async () => {
    const owner = await signup();
    const wrong = await call('POST', '/api/auth/login', {
      body: { email: owner.email, password: 'not the password at all' },
    });
    const unknown = await call('POST', '/api/auth/login', {
      body: { email: 'nobody@example.com', password: 'not the password at all' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
    await login(owner.email);
    const audit = await call('GET', '/api/audit', { session: owner });
    const actions = audit.json.entries.map((e: any) => e.action);
    expect(actions).toContain('auth.login_failed');
    expect(actions).toContain('auth.login');
  });

  it('is rate limited per account, even with the right password', async () => {
    const owner = await signup();
    for (let i = 0; i < 10; i++) {
      const res = await call('POST', '/api/auth/login', {
        body: { email: owner.email, password: `wrong password ${i}` },
        headers: { 'cf-connecting-ip': `198.51.100.${i}` },
      });
      expect(res.status).toBe(401);
    }
    const locked = await call('POST', '/api/auth/login', {
      body: { email: owner.email, password: owner.password },
      headers: { 'cf-connecting-ip': '198.51.100.99' },
    });
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe('rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  // 50 PBKDF2 checks at 100,000 iterations: ~3 s alone, over 5 s on a loaded machine.
  it('is rate limited per address across accounts', async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < 50; i++) {
      await call('POST', '/api/auth/login', {
        body: { email: `spray${i}@example.com`, password: 'password123456' },
        headers: { 'cf-connecting-ip': ip },
      });
    }
    const owner = await signup();
    const res = await call('POST', '/api/auth/login', {
      body: { email: owner.email, password: owner.password },
      headers: { 'cf-connecting-ip': ip },
    });
    expect(res.status).toBe(429);
    const elsewhere = await call('POST', '/api/auth/login', {
      body: { email: owner.email, password: owner.password },
      headers: { 'cf-connecting-ip': '203.0.113.8' },
    });
    expect(elsewhere.status).toBe(200);
  }, 30_000);
});
