/**
 * Invitations through the public API: invite → mail → accept (own name and password) →
 * signed in with the role; listed and revocable; single use; 7 days; never above the
 * inviter's role; an address with an account refused; tenants isolated; no token leaks.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { addMember, call, linkToken, login, mailTo, PASSWORD, signup, type Session } from './helpers/api';

const invite = (by: Session, email: string, role: string) =>
  call('POST', '/api/invitations', { session: by, body: { email, role } });
const inspect = (token: string) => call('POST', '/api/auth/invitation', { body: { token } });
const accept = (token: string, name = 'Grace Hopper', password = 'the invitee chose this one') =>
  call('POST', '/api/auth/invitation/accept', { body: { token, name, password } });
const pending = async (s: Session) => (await call('GET', '/api/invitations', { session: s })).json.invitations;
const address = (what: string) => `${what}-${crypto.randomUUID().slice(0, 8)}@example.com`;
const cookieOf = (res: { headers: Headers }) =>
  /automate_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![0];

describe('inviting and accepting', () => {
  it('lets the invitee choose a name and password and join signed in with the role', async () => {
    const owner = await signup('Invite Co');
    const email = address('Grace');
    const created = await invite(owner, email, 'viewer');
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      email: email.toLowerCase(),
      role: 'viewer',
      invitedBy: owner.email,
      expired: false,
    });
    expect(created.json.expiresAt - created.json.createdAt).toBe(7 * 24 * 3600 * 1000);
    expect(await pending(owner)).toEqual([created.json]);

    const mail = await mailTo(email.toLowerCase(), 'invitation');
    const token = linkToken(mail);
    expect(mail.subject).toBe('You are invited to join Invite Co on Automate');
    expect(mail.text).toContain(`${owner.email} invited you to join the team "Invite Co" on Automate as viewer.`);
    expect(mail.html).toContain(`/studio/invite#token=${token}`);
    expect(created.text).not.toContain(token);

    const preview = await inspect(token);
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      tenant: { name: 'Invite Co' },
      email: email.toLowerCase(),
      role: 'viewer',
      invitedBy: owner.email,
      expiresAt: created.json.expiresAt,
    });

    const joined = await accept(token);
    expect(joined.status).toBe(201);
    expect(joined.json).toMatchObject({
      tenant: { id: owner.tenant.id, name: 'Invite Co' },
      user: { email: email.toLowerCase(), role: 'viewer', emailVerified: true },
    });
    const session = { cookie: cookieOf(joined) } as Session;
    const me = await call('GET', '/api/auth/me', { session });
    expect(me.json.user).toMatchObject({ role: 'viewer', emailVerified: true });
    expect(me.json.tenant.id).toBe(owner.tenant.id);
    // The role applies: a viewer writes nothing.
    expect((await call('PUT', '/api/workflows/w', { session, body: {} })).status).toBe(403);
    await login(email, 'the invitee chose this one');

    const members = (await call('GET', '/api/members', { session: owner })).json.members;
    expect(members.find((m: any) => m.email === email.toLowerCase())).toMatchObject({
      name: 'Grace Hopper',
      role: 'viewer',
    });
    expect(await pending(owner)).toEqual([]);

    const twice = await accept(token, 'Someone Else', 'another password here');
    expect(twice.status).toBe(400);
    expect(twice.json.error).toMatchObject({
      code: 'invalid_link',
      message: expect.stringMatching(/already accepted/),
    });
    expect((await inspect(token)).json.error.code).toBe('invalid_link');

    const audit = (await call('GET', '/api/audit?action=invitation.*', { session: owner })).json.entries;
    expect(audit.map((e: any) => e.action)).toEqual(['invitation.accept', 'invitation.create']);
    expect(audit[0]).toMatchObject({ actorLabel: email.toLowerCase(), context: { role: 'viewer', via: 'password' } });
    expect(JSON.stringify(audit)).not.toContain(token);
    const rows = await env.DB.prepare('SELECT * FROM invitations WHERE tenant_id = ?').bind(owner.tenant.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(token);
  });

  it('refuses an address that already has an account, in this tenant or another', async () => {
    const owner = await signup('Taken Co');
    const elsewhere = await signup('Elsewhere Co');
    for (const email of [owner.email, elsewhere.email]) {
      const res = await invite(owner, email, 'editor');
      expect(res.status).toBe(409);
      expect(res.json.error).toMatchObject({ code: 'email_taken', message: expect.stringMatching(/already exists/) });
    }
    // Signed up after the invitation went out: accepting says so, and the invitation stays usable for nobody else.
    const email = address('late');
    await invite(owner, email, 'editor');
    const token = linkToken(await mailTo(email, 'invitation'));
    await call('POST', '/api/auth/signup', { body: { tenant: 'Own Co', email, password: PASSWORD } });
    const res = await accept(token);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('email_taken');
  });

  it('refuses forged and malformed tokens, and a missing name or short password by field', async () => {
    expect((await inspect('A'.repeat(43))).json.error.code).toBe('invalid_link');
    expect((await accept('A'.repeat(43))).json.error.code).toBe('invalid_link');
    const owner = await signup('Fields Co');
    const email = address('fields');
    await invite(owner, email, 'viewer');
    const token = linkToken(await mailTo(email, 'invitation'));
    const bad = await call('POST', '/api/auth/invitation/accept', { body: { token, name: '', password: 'short' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: any) => d.path).sort()).toEqual(['name', 'password']);
    expect((await accept(token)).status).toBe(201);
  });
});

describe('roles', () => {
  it('never lets anyone invite above their own role: only owners invite owners', async () => {
    const owner = await signup('Roles Co');
    const admin = await addMember(owner, 'admin');
    const editor = await addMember(owner, 'editor');
    const refused = await invite(admin, address('boss'), 'owner');
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/above your own role/),
    });
    expect((await invite(admin, address('peer'), 'admin')).status).toBe(201);
    expect((await invite(editor, address('x'), 'viewer')).status).toBe(403);

    const coOwner = address('coowner');
    expect((await invite(owner, coOwner, 'owner')).status).toBe(201);
    const joined = await accept(linkToken(await mailTo(coOwner, 'invitation')));
    expect(joined.json.user.role).toBe('owner');
  });

  it('lets only owners revoke an owner invitation', async () => {
    const owner = await signup('Revoke Roles Co');
    const admin = await addMember(owner, 'admin');
    const id = (await invite(owner, address('o'), 'owner')).json.id;
    const res = await call('DELETE', `/api/invitations/${id}`, { session: admin });
    expect(res.status).toBe(403);
    expect((await call('DELETE', `/api/invitations/${id}`, { session: owner })).status).toBe(200);
  });
});

describe('revoking, replacing and expiring', () => {
  it('revokes: the link stops working at once and the audit says who', async () => {
    const owner = await signup('Revoke Co');
    const email = address('revoked');
    const id = (await invite(owner, email, 'editor')).json.id;
    const token = linkToken(await mailTo(email, 'invitation'));
    const res = await call('DELETE', `/api/invitations/${id}`, { session: owner });
    expect(res.json).toEqual({ id, revoked: true });
    expect(await pending(owner)).toEqual([]);
    const use = await accept(token);
    expect(use.status).toBe(400);
    expect(use.json.error.message).toMatch(/withdrawn/);
    expect((await call('DELETE', `/api/invitations/${id}`, { session: owner })).json.error.code).toBe(
      'invitation_not_found',
    );
    const audit = (await call('GET', '/api/audit?action=invitation.revoke', { session: owner })).json.entries;
    expect(audit[0]).toMatchObject({ actorLabel: owner.email, targetId: id, context: { email, role: 'editor' } });
  });

  it('replaces a pending invitation to the same address: only the newest link works', async () => {
    const owner = await signup('Replace Co');
    const email = address('twice');
    const first = await invite(owner, email, 'viewer');
    const firstMail = await mailTo(email, 'invitation');
    const second = await invite(owner, email, 'editor');
    const secondMail = await mailTo(email, 'invitation', { after: firstMail.createdAt + 1 });
    expect((await pending(owner)).map((i: any) => i.id)).toEqual([second.json.id]);
    expect((await accept(linkToken(firstMail))).json.error.code).toBe('invalid_link');
    expect((await accept(linkToken(secondMail))).json.user.role).toBe('editor');
    const audit = (await call('GET', '/api/audit?action=invitation.create', { session: owner })).json.entries;
    expect(audit[0].context.replaces).toEqual([first.json.id]);
  });

  it('expires after 7 days: listed as expired, its use refused and audited', async () => {
    const owner = await signup('Expire Co');
    const email = address('late');
    const id = (await invite(owner, email, 'viewer')).json.id;
    const token = linkToken(await mailTo(email, 'invitation'));
    await env.DB.prepare('UPDATE invitations SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, id)
      .run();
    expect((await pending(owner))[0]).toMatchObject({ id, expired: true });
    for (const res of [await inspect(token), await accept(token)]) {
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(/expired/);
    }
    const audit = (await call('GET', '/api/audit?action=invitation.expired_use', { session: owner })).json.entries;
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ actorType: 'anonymous', targetId: id, context: { email, role: 'viewer' } });
    expect(JSON.stringify(audit)).not.toContain(token);
    expect((await call('DELETE', `/api/invitations/${id}`, { session: owner })).status).toBe(200);
  });
});

describe('tenant isolation', () => {
  it("keeps an admin of tenant B from listing or revoking tenant A's invitations", async () => {
    const a = await signup('Tenant A Co');
    const b = await signup('Tenant B Co');
    const bAdmin = await addMember(b, 'admin');
    const id = (await invite(a, address('a-only'), 'viewer')).json.id;
    for (const who of [b, bAdmin]) {
      expect((await pending(who)).map((i: any) => i.id)).not.toContain(id);
      const res = await call('DELETE', `/api/invitations/${id}`, { session: who });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('invitation_not_found');
    }
    expect((await pending(a)).map((i: any) => i.id)).toEqual([id]);
  });

  it('is managed by people, not API tokens', async () => {
    const owner = await signup('Token Co');
    const token = (await call('POST', '/api/tokens', { session: owner, body: { name: 't' } })).json.token;
    expect((await call('GET', '/api/invitations', { token })).status).toBe(403);
    expect(
      (await call('POST', '/api/invitations', { token, body: { email: address('t'), role: 'viewer' } })).status,
    ).toBe(403);
  });
});

describe('rate limit', () => {
  it('mails one address at most 5 times in 15 minutes, whoever invites', async () => {
    const owner = await signup('Spam Co');
    const email = address('spammed');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await invite(owner, email, 'viewer')).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const other = await signup('Other Spam Co');
    const res = await invite(other, email, 'viewer');
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('rate_limited');
  });
});

describe('single use under races', () => {
  it('lets exactly one of two simultaneous accepts through, making one account', async () => {
    const owner = await signup('Race Co');
    const email = address('racer');
    await invite(owner, email, 'editor');
    const token = linkToken(await mailTo(email, 'invitation'));
    const results = await Promise.all([accept(token, 'One'), accept(token, 'Two')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
    const members = (await call('GET', '/api/members', { session: owner })).json.members;
    expect(members.filter((m: any) => m.email === email)).toHaveLength(1);
  });
});
