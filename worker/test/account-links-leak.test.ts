/**
 * Every mailed link's token, looked for everywhere it must not be: every API answer of the
 * account flows (bodies and headers), every audit entry, every stored row, every log line.
 * The tokens are taken from the dev outbox, the one place they may appear.
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, linkToken, mailTo, outbox, PASSWORD, signup, type Result } from './helpers/api';

const answers: Result[] = [];
const logged: string[] = [];
const record = async (pending: Promise<Result>) => {
  const res = await pending;
  answers.push(res);
  return res;
};

beforeAll(() => {
  for (const level of ['log', 'info', 'warn', 'error'] as const)
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
});
afterAll(() => vi.restoreAllMocks());

describe('mailed link tokens', () => {
  it('appear in no answer, audit entry, stored row or log line', async () => {
    const owner = await signup('Leak Co', { verify: false });
    const ip = { 'cf-connecting-ip': '198.51.100.77' };
    await record(call('POST', '/api/auth/verify-email/resend', { session: owner, headers: ip }));
    const verifyMail = await mailTo(owner.email, 'verify_email');
    await record(call('POST', '/api/auth/verify-email', { body: { token: linkToken(verifyMail) } }));
    await record(call('GET', '/api/auth/me', { session: owner }));

    await record(call('POST', '/api/auth/password/forgot', { body: { email: owner.email }, headers: ip }));
    const resetMail = await mailTo(owner.email, 'reset_password');
    await record(
      call('POST', '/api/auth/password/reset', {
        body: { token: linkToken(resetMail), password: 'a completely new passphrase' },
      }),
    );
    const again = await record(
      call('POST', '/api/auth/login', { body: { email: owner.email, password: 'a completely new passphrase' } }),
    );
    const session = { ...owner, cookie: /automate_session=[^;]+/.exec(again.headers.get('set-cookie')!)![0] };

    const invitee = `leak-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await record(call('POST', '/api/invitations', { session, body: { email: invitee, role: 'editor' } }));
    const first = await mailTo(invitee, 'invitation');
    await record(call('POST', '/api/invitations', { session, body: { email: invitee, role: 'viewer' } }));
    const second = await mailTo(invitee, 'invitation', { after: first.createdAt + 1 });
    await record(call('GET', '/api/invitations', { session }));
    await record(call('POST', '/api/auth/invitation', { body: { token: linkToken(first) } }));
    await record(call('POST', '/api/auth/invitation', { body: { token: linkToken(second) } }));
    await record(
      call('POST', '/api/auth/invitation/accept', {
        body: { token: linkToken(second), name: 'Leaky', password: PASSWORD },
      }),
    );
    const expiring = `leak-exp-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const inv = await record(call('POST', '/api/invitations', { session, body: { email: expiring, role: 'viewer' } }));
    const expiredMail = await mailTo(expiring, 'invitation');
    await env.DB.prepare('UPDATE invitations SET expires_at = 1 WHERE id = ?').bind(inv.json.id).run();
    await record(call('POST', '/api/auth/invitation', { body: { token: linkToken(expiredMail) } }));
    await record(call('DELETE', `/api/invitations/${inv.json.id}`, { session }));
    await record(call('GET', '/api/audit?limit=200', { session }));

    const tokens = [owner.email, invitee, expiring].map(async (to) => (await outbox(to)).map((m) => linkToken(m)));
    const all = (await Promise.all(tokens)).flat();
    expect(all.length).toBeGreaterThanOrEqual(6);

    const audit = await env.DB.prepare('SELECT * FROM audit_log').all();
    const tables = await env.DB.batch(
      ['users', 'sessions', 'account_links', 'invitations', 'audit_log', 'rate_windows'].map((t) =>
        env.DB.prepare(`SELECT * FROM ${t}`),
      ),
    );
    const haystacks = {
      answers: answers.map((r) => `${r.status} ${[...r.headers].join(' ')} ${r.text}`).join('\n'),
      audit: JSON.stringify(audit.results),
      rows: JSON.stringify(tables.map((t) => t.results)),
      logs: logged.join('\n'),
    };
    for (const token of all)
      for (const [where, text] of Object.entries(haystacks)) expect(text.includes(token), `${where}`).toBe(false);
    // The flows did run and were audited.
    const actions = new Set((audit.results as { action: string }[]).map((e) => e.action));
    for (const action of [
      'auth.verification_sent',
      'auth.email_verified',
      'auth.password_reset_requested',
      'auth.password_reset',
      'invitation.create',
      'invitation.accept',
      'invitation.revoke',
      'invitation.expired_use',
    ])
      expect(actions, action).toContain(action);
  });
});
