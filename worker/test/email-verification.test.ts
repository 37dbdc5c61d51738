/**
 * Email verification through the public API: sign-up mails a link (dev outbox), an
 * unverified account signs in but cannot create API tokens, the link is single use and
 * expires, "resend" replaces it and is rate limited. No token in any answer or audit entry.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call, linkToken, login, mailTo, signup, type Session } from './helpers/api';

const verify = (token: string) => call('POST', '/api/auth/verify-email', { body: { token } });
const me = async (s: Session) => (await call('GET', '/api/auth/me', { session: s })).json;
const auditOf = async (s: Session, action: string) =>
  (await call('GET', `/api/audit?action=${action}`, { session: s })).json.entries;

describe('verification at sign-up', () => {
  it('mails a link; until it is followed the account signs in but cannot create tokens', async () => {
    const owner = await signup('Unverified Inc', { verify: false });
    const mail = await mailTo(owner.email, 'verify_email');
    const token = linkToken(mail);
    expect(mail.subject).toBe('Confirm your email address for Automate');
    expect(mail.html).toContain(`/studio/verify#token=${token}`);

    expect((await me(owner)).user).toMatchObject({ email: owner.email, emailVerified: false });
    const again = await login(owner.email);
    expect((await me(again)).user.emailVerified).toBe(false);
    const refused = await call('POST', '/api/tokens', { session: owner, body: { name: 'ci' } });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('email_not_verified');
    expect(refused.json.error.message).toMatch(/Confirm your email address/);

    const ok = await verify(token);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ verified: true, email: owner.email });
    expect((await me(owner)).user.emailVerified).toBe(true);
    expect((await call('POST', '/api/tokens', { session: owner, body: { name: 'ci' } })).status).toBe(201);

    const sent = await auditOf(owner, 'auth.verification_sent');
    const confirmed = await auditOf(owner, 'auth.email_verified');
    expect(sent).toHaveLength(1);
    expect(confirmed[0]).toMatchObject({ actorLabel: owner.email, targetId: owner.user.id });
    expect(JSON.stringify([sent, confirmed, ok.json])).not.toContain(token);
  });

  it('refuses a used, a forged, an expired and a malformed token', async () => {
    const owner = await signup('Links Inc', { verify: false });
    const token = linkToken(await mailTo(owner.email, 'verify_email'));
    expect((await verify(token)).status).toBe(200);
    const used = await verify(token);
    expect(used.status).toBe(400);
    expect(used.json.error).toMatchObject({ code: 'invalid_link', message: expect.stringMatching(/already used/) });

    const forged = await verify(`${token.slice(0, -4)}AAAA`);
    expect(forged.json.error.code).toBe('invalid_link');

    const other = await signup('Expired Inc', { verify: false });
    const stale = linkToken(await mailTo(other.email, 'verify_email'));
    await env.DB.prepare("UPDATE account_links SET expires_at = ? WHERE user_id = ? AND purpose = 'verify_email'")
      .bind(Date.now() - 1, other.user.id)
      .run();
    const expired = await verify(stale);
    expect(expired.status).toBe(400);
    expect(expired.json.error.message).toMatch(/expired/);
    expect((await me(other)).user.emailVerified).toBe(false);

    const malformed = await verify('not a token!');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('invalid_request');
    expect(malformed.json.error.details[0].path).toBe('token');
  });

  it('stores only the hash of the token', async () => {
    const owner = await signup('Hashed Inc', { verify: false });
    const token = linkToken(await mailTo(owner.email, 'verify_email'));
    const rows = await env.DB.prepare('SELECT * FROM account_links WHERE user_id = ?').bind(owner.user.id).all();
    expect(rows.results).toHaveLength(1);
    expect(JSON.stringify(rows.results)).not.toContain(token);
  });
});

describe('resending the link', () => {
  it('mails a new link that replaces the old one', async () => {
    const owner = await signup('Resend Inc', { verify: false });
    const first = await mailTo(owner.email, 'verify_email');
    const res = await call('POST', '/api/auth/verify-email/resend', { session: owner });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ sent: true, alreadyVerified: false });
    const second = await mailTo(owner.email, 'verify_email', { after: first.createdAt + 1 });
    expect(linkToken(second)).not.toBe(linkToken(first));
    expect((await verify(linkToken(first))).json.error.message).toMatch(/replaced by a newer one/);
    expect((await verify(linkToken(second))).status).toBe(200);
    const done = await call('POST', '/api/auth/verify-email/resend', { session: owner });
    expect(done.json).toEqual({ sent: false, alreadyVerified: true });
  });

  it('is rate limited per address', async () => {
    const owner = await signup('Resend Limit Inc', { verify: false });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await call('POST', '/api/auth/verify-email/resend', {
            session: owner,
            headers: { 'cf-connecting-ip': `198.51.100.${i + 1}` },
          })
        ).status,
      );
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it('is for signed-in people only', async () => {
    expect((await call('POST', '/api/auth/verify-email/resend')).status).toBe(401);
  });
});
