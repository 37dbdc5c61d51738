/**
 * OIDC single sign-on against a REAL provider: panva's oidc-provider, started in Node by the
 * global setup (connectors/testing/oidc-provider.ts) and reached over loopback from workerd.
 * Nothing about the provider is mocked: discovery, PKCE, the code exchange, JWKS and ID token
 * signatures are its own. The forged-signature case uses its `automate-forged` client, whose
 * token endpoint re-signs the genuine ID token with another key under the provider's key id.
 */
import { createExecutionContext, env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import type { Env } from '../src/env';
import { addMember, BASE, call, login, PASSWORD, type Session, signup } from './helpers/api';
import { hashPassword } from '../src/auth/passwords';
import { enrolMfa } from './helpers/mfa';
import { clientSecretOf, configureSso, issuer, memberWithEmail, signInWithSso, uniqueDomain } from './helpers/sso';

let a: Session;
let acme: string;

async function auditOf(tenantId: string | null, action: string) {
  const rows = await env.DB.prepare(
    `SELECT * FROM audit_log WHERE ${tenantId ? 'tenant_id = ?' : 'tenant_id IS NULL AND ?1 IS NULL'} AND action = ? ORDER BY at`,
  )
    .bind(tenantId, action)
    .all<{ context: string; actor_label: string | null; target_id: string | null }>();
  return rows.results.map((r) => ({ ...r, context: JSON.parse(r.context ?? 'null') }));
}

beforeAll(async () => {
  a = await signup('SSO A');
  acme = uniqueDomain('acme');
  const saved = await configureSso(a, { domains: [acme], defaultRole: 'viewer' });
  expect(saved.status, saved.text).toBe(200);
});

describe('configuration', () => {
  it('saves after checking discovery, shows the redirect URI, never a secret value', async () => {
    const res = await call('GET', '/api/sso', { session: a });
    expect(res.status).toBe(200);
    expect(res.json.redirectUri).toBe(`${BASE}/api/auth/sso/callback`);
    expect(res.json.config).toMatchObject({
      issuer: issuer(),
      clientId: 'automate-rs',
      clientSecret: { $secret: 'OIDC_CLIENT_SECRET' },
      domains: [acme],
      defaultRole: 'viewer',
      enabled: true,
      requireSso: false,
      tokenAuthMethod: 'client_secret_basic',
    });
    expect(res.text).not.toContain(clientSecretOf('automate-rs'));
    const [created] = await auditOf(a.tenant.id, 'sso.config.create');
    expect(created.context).toMatchObject({ clientSecretKey: 'OIDC_CLIENT_SECRET', domains: [acme] });
    expect(JSON.stringify(created)).not.toContain(clientSecretOf('automate-rs'));
  });

  it('refuses a literal client secret, naming the field', async () => {
    const res = await call('PUT', '/api/sso', {
      session: a,
      body: {
        issuer: issuer(),
        clientId: 'automate-rs',
        clientSecret: 'automate-rs-secret',
        domains: [acme],
        defaultRole: 'viewer',
        enabled: true,
      },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([{ path: 'clientSecret', message: expect.stringContaining('$secret') }]);
    expect(res.text).not.toContain('automate-rs-secret');
  });

  it('names every bad field at once', async () => {
    const res = await call('PUT', '/api/sso', {
      session: a,
      body: {
        issuer: 'not a url',
        clientId: '',
        clientSecret: { $secret: 'lower' },
        domains: ['nodot'],
        defaultRole: 'owner',
      },
    });
    expect(res.status).toBe(400);
    const paths = res.json.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['clientId', 'clientSecret', 'defaultRole', 'domains[0]', 'enabled', 'issuer']);
  });

  it('refuses an issuer its discovery document does not name, and a secret that does not exist', async () => {
    const body = {
      issuer: `${issuer()}/`,
      clientId: 'automate-rs',
      clientSecret: { $secret: 'OIDC_CLIENT_SECRET' },
      domains: [acme],
      defaultRole: 'viewer',
      enabled: true,
    };
    const wrongIssuer = await call('PUT', '/api/sso', { session: a, body });
    expect(wrongIssuer.status).toBe(400);
    expect(wrongIssuer.json.error.code).toBe('sso_discovery_failed');
    expect(wrongIssuer.json.error.details[0]).toMatchObject({
      path: 'issuer',
      message: expect.stringContaining('names issuer'),
    });
    const noSecret = await call('PUT', '/api/sso', {
      session: a,
      body: { ...body, issuer: issuer(), clientSecret: { $secret: 'NOT_STORED' } },
    });
    expect(noSecret.status).toBe(400);
    expect(noSecret.json.error.details[0].path).toBe('clientSecret');
    // Nothing changed.
    expect((await call('GET', '/api/sso', { session: a })).json.config.issuer).toBe(issuer());
  });

  it('in production refuses an issuer on a private or loopback address', async () => {
    const res = await createApp().request(
      `${BASE}/api/sso`,
      {
        method: 'PUT',
        headers: { cookie: a.cookie, origin: BASE, 'content-type': 'application/json' },
        body: JSON.stringify({
          issuer: issuer(),
          clientId: 'automate-rs',
          clientSecret: { $secret: 'OIDC_CLIENT_SECRET' },
          domains: [acme],
          defaultRole: 'viewer',
          enabled: true,
        }),
      },
      { ...env, ENVIRONMENT: 'production' } as Env,
      createExecutionContext(),
    );
    const json = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
    expect(res.status).toBe(400);
    expect(json.error.code).toBe('sso_discovery_failed');
    expect(json.error.details[0].message).toMatch(/https|loopback/);
  });

  it('is for owners only', async () => {
    const admin = await addMember(a, 'admin');
    expect((await call('GET', '/api/sso', { session: admin })).status).toBe(403);
    expect((await call('DELETE', '/api/sso', { session: admin })).status).toBe(403);
  });

  it('keeps the client secret from being deleted while SSO uses it', async () => {
    const res = await call('DELETE', '/api/secrets/OIDC_CLIENT_SECRET', { session: a });
    expect(res.status).toBe(409);
    expect(res.json.error.details[0].path).toBe('sso.clientSecret');
  });
});

describe('sign-in', () => {
  it("signs an existing member in with their role, as an SSO session, through the provider's PKCE code flow", async () => {
    const email = `ann@${acme}`;
    await memberWithEmail(a, email, 'editor');
    const attempt = await signInWithSso(email);
    expect(attempt.error).toBeNull();
    expect(attempt.location).toBe(`${BASE}/studio/`);
    expect(attempt.session).not.toBeNull();
    // The provider got a PKCE challenge, a state and a nonce.
    const me = await call('GET', '/api/auth/me', { headers: { cookie: attempt.session! } });
    expect(me.json.user).toMatchObject({ email, role: 'editor' });
    expect(me.json.tenant.id).toBe(a.tenant.id);
    const row = await env.DB.prepare(
      'SELECT method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ? ORDER BY s.created_at DESC',
    )
      .bind(email)
      .first<{ method: string }>();
    expect(row?.method).toBe('sso');
    const [entry] = (await auditOf(a.tenant.id, 'auth.sso.login')).filter((e) => e.actor_label === email);
    expect(entry.context).toMatchObject({ issuer: issuer(), accountCreated: false });
  });

  it('creates a just-in-time account with the default role', async () => {
    const email = `new.person@${acme}`;
    const attempt = await signInWithSso(email);
    expect(attempt.error).toBeNull();
    const me = await call('GET', '/api/auth/me', { headers: { cookie: attempt.session! } });
    expect(me.json.user).toMatchObject({ email, role: 'viewer' });
    const [created] = (await auditOf(a.tenant.id, 'auth.sso.account_created')).filter((e) => e.actor_label === email);
    expect(created.context).toMatchObject({ email, role: 'viewer', issuer: issuer() });
    // The provider vouched for the address: no confirmation mail is needed, and its name is kept.
    const row = await env.DB.prepare('SELECT email_verified_at, name FROM users WHERE email = ?')
      .bind(email)
      .first<{ email_verified_at: number | null; name: string | null }>();
    expect(row?.email_verified_at).toBeGreaterThan(0);
    expect(row?.name).toBe(email);
    // The second time it is the same account.
    const again = await signInWithSso(email);
    const meAgain = await call('GET', '/api/auth/me', { headers: { cookie: again.session! } });
    expect(meAgain.json.user.id).toBe(me.json.user.id);
  });

  it("lets an invited address accept its invitation by signing in with SSO: the invitation's role, used once", async () => {
    const email = `invited@${acme}`;
    const invited = await call('POST', '/api/invitations', { session: a, body: { email, role: 'admin' } });
    expect(invited.status).toBe(201);
    const attempt = await signInWithSso(email);
    expect(attempt.error).toBeNull();
    const me = await call('GET', '/api/auth/me', { headers: { cookie: attempt.session! } });
    expect(me.json.user).toMatchObject({ email, role: 'admin' });
    const [accept] = (await auditOf(a.tenant.id, 'invitation.accept')).filter((e) => e.actor_label === email);
    expect(accept.context).toMatchObject({ via: 'sso', role: 'admin' });
    expect((await auditOf(a.tenant.id, 'auth.sso.account_created')).some((e) => e.actor_label === email)).toBe(false);
    // The invitation is used up: no longer pending.
    const pending = await call('GET', '/api/invitations', { session: a });
    expect(JSON.stringify(pending.json)).not.toContain(email);
  });

  it('signs in with an ES256-signed ID token', async () => {
    const c = await signup('SSO ES');
    const domain = uniqueDomain('es');
    expect((await configureSso(c, { clientId: 'automate-es', domains: [domain] })).status).toBe(200);
    const attempt = await signInWithSso(`eve@${domain}`);
    expect(attempt.error).toBeNull();
    expect(attempt.session).not.toBeNull();
  });
});

describe('refusals', () => {
  it('refuses a wrong state, and a flow used twice', async () => {
    const email = `state@${acme}`;
    const wrong = await signInWithSso(email, { tamper: (u) => u.searchParams.set('state', 'not-the-state') });
    expect(wrong.error).toBe('bad_state');
    expect(wrong.session).toBeNull();
    expect(wrong.location).toMatch(new RegExp(`^${BASE}/studio/login\\?sso_error=bad_state$`));
    const refused = await auditOf(a.tenant.id, 'auth.sso.refused');
    expect(refused.some((e) => e.context.reason === 'bad_state')).toBe(true);
    // No account was made for the address.
    expect(await env.DB.prepare('SELECT id FROM users WHERE email = ?').bind(email).first()).toBeNull();

    const good = await signInWithSso(email);
    expect(good.error).toBeNull();
    // Replaying the same callback (same browser cookie, same code) finds no flow.
    const replay = await call('GET', new URL(good.callbackUrl).pathname + new URL(good.callbackUrl).search, {
      headers: { cookie: `automate_sso=${good.flow}` },
      redirect: 'manual',
    });
    expect(new URL(replay.headers.get('location')!).searchParams.get('sso_error')).toBe('bad_state');
  });

  it('answers a callback with no flow in this browser with a JSON 400', async () => {
    const res = await call('GET', '/api/auth/sso/callback?state=x&code=y');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('sso_state_invalid');
  });

  it('refuses a flow that took too long', async () => {
    const attempt = await signInWithSso(`slow@${acme}`, {
      beforeCallback: async () => {
        await env.DB.prepare('UPDATE sso_logins SET expires_at = 0').run();
      },
    });
    expect(attempt.error).toBe('expired');
    expect(attempt.session).toBeNull();
  });

  it('refuses an ID token signed by another key', async () => {
    const b = await signup('SSO forged');
    const domain = uniqueDomain('forged');
    expect((await configureSso(b, { clientId: 'automate-forged', domains: [domain] })).status).toBe(200);
    const attempt = await signInWithSso(`mallory@${domain}`);
    expect(attempt.error).toBe('bad_signature');
    expect(attempt.session).toBeNull();
    const [entry] = await auditOf(b.tenant.id, 'auth.sso.refused');
    expect(entry.context.reason).toBe('bad_signature');
    expect(await env.DB.prepare('SELECT id FROM users WHERE email = ?').bind(`mallory@${domain}`).first()).toBeNull();
  });

  it('refuses a user the provider signs in from another domain', async () => {
    const attempt = await signInWithSso(`typed@${acme}`, { as: 'eve@elsewhere.test' });
    expect(attempt.error).toBe('wrong_domain');
    expect(attempt.session).toBeNull();
    expect(await env.DB.prepare('SELECT id FROM users WHERE email = ?').bind('eve@elsewhere.test').first()).toBeNull();
    const refused = await auditOf(a.tenant.id, 'auth.sso.refused');
    expect(refused.find((e) => e.context.reason === 'wrong_domain')?.actor_label).toBe('eve@elsewhere.test');
  });

  it('refuses an address the provider has not verified', async () => {
    const attempt = await signInWithSso(`unverified@${acme}`);
    expect(attempt.error).toBe('email_unverified');
  });

  it('refuses a user who belongs to another team', async () => {
    const other = await signup('Other team');
    const email = `bob@${acme}`;
    await memberWithEmail(other, email, 'viewer');
    const attempt = await signInWithSso(email);
    expect(attempt.error).toBe('other_tenant');
    expect(attempt.session).toBeNull();
    // Bob is still where he was.
    const row = await env.DB.prepare('SELECT tenant_id FROM users WHERE email = ?')
      .bind(email)
      .first<{ tenant_id: string }>();
    expect(row?.tenant_id).toBe(other.tenant.id);
  });

  it('keeps codes, tokens and the client secret out of every answer and audit entry', async () => {
    const attempt = await signInWithSso(`leak@${acme}`, { as: 'x@elsewhere.test' });
    const code = new URL(attempt.callbackUrl).searchParams.get('code')!;
    expect(code.length).toBeGreaterThan(10);
    const audit = await env.DB.prepare('SELECT * FROM audit_log').all();
    const all = JSON.stringify(audit.results);
    for (const s of [code, clientSecretOf('automate-rs'), clientSecretOf('automate-forged'), attempt.flow, 'eyJ'])
      expect(all).not.toContain(s);
    expect(attempt.callback.text).not.toContain(code);
    expect(attempt.location).not.toContain(code);
  });
});

describe('two-factor', () => {
  it("does not hold an SSO session to the team's MFA requirement (the provider does MFA), but a password session", async () => {
    const t = await signup('SSO and MFA');
    await enrolMfa(t);
    expect((await call('PATCH', '/api/settings', { session: t, body: { mfaRequired: true } })).status).toBe(200);
    const domain = uniqueDomain('mfa');
    expect((await configureSso(t, { domains: [domain], defaultRole: 'editor' })).status).toBe(200);
    const sso = await signInWithSso(`sam@${domain}`);
    const viaSso = await call('GET', '/api/workflows', { headers: { cookie: sso.session! } });
    expect(viaSso.status).toBe(200);
    // The same account signing in with a password (after a reset, say) must enrol first.
    await env.DB.prepare('UPDATE users SET password_hash = ? WHERE email = ?')
      .bind(await hashPassword(PASSWORD), `sam@${domain}`)
      .run();
    const withPassword = await login(`sam@${domain}`);
    const viaPassword = await call('GET', '/api/workflows', { session: withPassword });
    expect(viaPassword.status).toBe(403);
    expect(viaPassword.json.error.code).toBe('mfa_enrollment_required');
  });
});

describe('require SSO', () => {
  it("refuses password sign-in to the team's members of that domain only", async () => {
    const t = await signup('Strict');
    const domain = uniqueDomain('strict');
    expect((await configureSso(t, { domains: [domain], requireSso: true })).status).toBe(200);
    const member = `pat@${domain}`;
    await memberWithEmail(t, member, 'editor');
    const refused = await call('POST', '/api/auth/login', { body: { email: member, password: PASSWORD } });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('sso_required');
    // A wrong password is still just a wrong password (the refusal tells nothing without it).
    const wrong = await call('POST', '/api/auth/login', { body: { email: member, password: 'not the password!' } });
    expect(wrong.json.error.code).toBe('invalid_credentials');
    // Someone of another team with an address in that domain is not locked out.
    const outsider = await signup('Outsider');
    const theirs = `kim@${domain}`;
    await memberWithEmail(outsider, theirs, 'viewer');
    expect((await login(theirs)).user.email).toBe(theirs);
    // The owner (example.com) signs in with a password as before.
    expect((await login(t.email)).user.email).toBe(t.email);
  });
});

describe('tenant isolation', () => {
  it("never shows or changes another team's configuration", async () => {
    const b = await signup('SSO B');
    const bDomain = uniqueDomain('b');
    expect((await configureSso(b, { domains: [bDomain] })).status).toBe(200);
    // A sees its own configuration only.
    const mine = await call('GET', '/api/sso', { session: a });
    expect(mine.json.config.domains).toEqual([acme]);
    expect(mine.text).not.toContain(bDomain);
    // A cannot claim B's domain; B's configuration is unchanged.
    const grab = await configureSso(a, { domains: [acme, bDomain] });
    expect(grab.status).toBe(409);
    expect(grab.json.error.code).toBe('sso_domain_taken');
    expect(grab.json.error.details).toEqual([{ path: 'domains[1]', message: expect.any(String) }]);
    expect((await call('GET', '/api/sso', { session: b })).json.config.domains).toEqual([bDomain]);
    expect((await call('GET', '/api/sso', { session: a })).json.config.domains).toEqual([acme]);
    // B's addresses still go to B's provider configuration.
    const attempt = await signInWithSso(`carol@${bDomain}`);
    const me = await call('GET', '/api/auth/me', { headers: { cookie: attempt.session! } });
    expect(me.json.tenant.id).toBe(b.tenant.id);
    // Deleting is A's own configuration only.
    expect((await call('DELETE', '/api/sso', { session: b })).status).toBe(200);
    expect((await call('GET', '/api/sso', { session: a })).json.config.domains).toEqual([acme]);
    const gone = await call('GET', `/api/auth/sso/start?email=${encodeURIComponent(`carol@${bDomain}`)}`);
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('sso_not_configured');
  });

  it('saves nothing when another team claims a domain between the check and the write', async () => {
    const raced = uniqueDomain('raced');
    // Stands in for another team's save landing first: the primary key's verdict on this one domain.
    await env.DB.prepare(
      `CREATE TRIGGER raced_domain BEFORE INSERT ON sso_domains WHEN NEW.domain = '${raced}'
       BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: sso_domains.domain'); END`,
    ).run();
    const res = await configureSso(a, { domains: [acme, raced], defaultRole: 'admin' });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('sso_domain_taken');
    const after = (await call('GET', '/api/sso', { session: a })).json.config;
    expect(after).toMatchObject({ domains: [acme], defaultRole: 'viewer' });
    expect((await call('GET', `/api/auth/sso/lookup?email=${encodeURIComponent(`x@${acme}`)}`)).json.sso).toBe(true);
    await env.DB.prepare('DROP TRIGGER raced_domain').run();
  });

  it('says whether an address uses SSO, without naming the team', async () => {
    const yes = await call('GET', `/api/auth/sso/lookup?email=${encodeURIComponent(`x@${acme}`)}`);
    expect(yes.json).toEqual({ sso: true });
    const no = await call('GET', '/api/auth/sso/lookup?email=x@example.com');
    expect(no.json).toEqual({ sso: false });
  });
});
