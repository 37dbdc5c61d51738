/**
 * "Forgot password" through the public API: the same answer for known and unknown
 * addresses, a single-use 30-minute link stored hashed, every session ended by a reset,
 * rate limits per address and per IP, and no token in any answer or audit entry.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { addMember, call, linkToken, login, mailTo, outbox, PASSWORD, signup } from './helpers/api';

const NEW_PASSWORD = 'a brand new passphrase 42';
const forgot = (email: string, ip: string) =>
  call('POST', '/api/auth/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': ip } });
const reset = (token: string, password = NEW_PASSWORD) =>
  call('POST', '/api/auth/password/reset', { body: { token, password } });

describe('asking for a reset', () => {
  it('answers the same for an address with an account and one without, and mails only the first', async () => {
    const owner = await signup('Forgetful Inc');
    const unknown = `nobody-${crypto.randomUUID()}@example.com`;
    const known = await forgot(owner.email, '203.0.113.1');
    const other = await forgot(unknown, '203.0.113.2');
    expect(known.status).toBe(202);
    expect(other.status).toBe(known.status);
    expect(other.text).toBe(known.text);
    expect([...other.headers.keys()].sort()).toEqual([...known.headers.keys()].sort());
    expect(known.json.message).toMatch(/If an account uses that address/);

    const mail = await mailTo(owner.email, 'reset_password');
    expect(mail.subject).toBe('Reset your Automate password');
    expect(mail.text).toContain('30 minutes');
    // Mail goes out after the answer; give the unknown address's the same time, then look.
    await new Promise((r) => setTimeout(r, 200));
    expect(await outbox(unknown)).toEqual([]);
    expect(known.text).not.toContain(linkToken(mail));
  });

  it('takes about as long either way (the lookup happens after the answer)', async () => {
    const owner = await signup('Timing Inc');
    const time = async (email: string, ip: string) => {
      const t0 = performance.now();
      await forgot(email, ip);
      return performance.now() - t0;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await time(owner.email, `203.0.113.${10 + i}`));
      unknown.push(await time(`ghost-${i}-${crypto.randomUUID()}@example.com`, `203.0.113.${20 + i}`));
    }
    // Both do the same work before answering: a rate-limit write and read.
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(50);
  });

  it('is rate limited per address (unknown ones too) and per IP', async () => {
    const owner = await signup('Limits Inc');
    for (const email of [owner.email, `ghost-${crypto.randomUUID()}@example.com`]) {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await forgot(email, `192.0.2.${100 + i}`)).status);
      expect(statuses, email).toEqual([202, 202, 202, 202, 202, 429]);
    }
    const limited = await forgot(owner.email, '192.0.2.200');
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const ip = '192.0.2.250';
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++)
      statuses.push((await forgot(`spray-${i}-${crypto.randomUUID()}@example.com`, ip)).status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(30);
    expect(statuses[30]).toBe(429);
  });

  it('refuses a malformed address with the field named', async () => {
    const res = await forgot('not-an-address', '192.0.2.1');
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('email');
  });
});

describe('choosing a new password', () => {
  it('sets it, ends every session (this browser signs in again), and the link works once', async () => {
    const owner = await signup('Reset Inc');
    const laptop = await login(owner.email);
    expect((await forgot(owner.email, '198.18.0.1')).status).toBe(202);
    const token = linkToken(await mailTo(owner.email, 'reset_password'));

    const res = await reset(token);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, email: owner.email });
    expect(res.headers.get('set-cookie')).toBeNull();
    for (const s of [owner, laptop]) expect((await call('GET', '/api/auth/me', { session: s })).status).toBe(401);
    await expect(login(owner.email, PASSWORD)).rejects.toThrow(/401/);
    const fresh = await login(owner.email, NEW_PASSWORD);

    const again = await reset(token, 'yet another passphrase');
    expect(again.status).toBe(400);
    expect(again.json.error.code).toBe('invalid_link');
    await login(owner.email, NEW_PASSWORD);

    const audit = (await call('GET', '/api/audit?action=auth.password_*', { session: fresh })).json.entries;
    expect(audit.map((e: any) => e.action).sort()).toEqual(['auth.password_reset', 'auth.password_reset_requested']);
    expect(JSON.stringify(audit)).not.toContain(token);
    const rows = await env.DB.prepare('SELECT * FROM account_links WHERE user_id = ?').bind(owner.user.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(token);
  });

  it('refuses an expired, a forged and a superseded link, and a short password', async () => {
    const owner = await signup('Expiry Inc');
    await forgot(owner.email, '198.18.0.2');
    const first = await mailTo(owner.email, 'reset_password');
    await forgot(owner.email, '198.18.0.2');
    const second = await mailTo(owner.email, 'reset_password', { after: first.createdAt + 1 });
    expect((await reset(linkToken(first))).json.error.message).toMatch(/replaced by a newer one/);
    expect((await reset(`${linkToken(second).slice(0, -4)}AAAA`)).json.error.code).toBe('invalid_link');
    const short = await reset(linkToken(second), 'short');
    expect(short.status).toBe(400);
    expect(short.json.error.details[0].path).toBe('password');

    // 30 minutes later.
    await env.DB.prepare("UPDATE account_links SET expires_at = ? WHERE user_id = ? AND purpose = 'reset_password'")
      .bind(Date.now() - 1, owner.user.id)
      .run();
    const expired = await reset(linkToken(second));
    expect(expired.status).toBe(400);
    expect(expired.json.error.message).toMatch(/expired/);
    await login(owner.email, PASSWORD);
  });

  it('issues links valid for 30 minutes', async () => {
    const owner = await signup('Ttl Inc');
    const before = Date.now();
    await forgot(owner.email, '198.18.0.3');
    await mailTo(owner.email, 'reset_password');
    const row = await env.DB.prepare(
      "SELECT expires_at, created_at FROM account_links WHERE user_id = ? AND purpose = 'reset_password'",
    )
      .bind(owner.user.id)
      .first<{ expires_at: number; created_at: number }>();
    expect(row!.expires_at - row!.created_at).toBe(30 * 60 * 1000);
    expect(row!.created_at).toBeGreaterThanOrEqual(before);
  });

  it('counts as proof of the address for an account that had not confirmed it', async () => {
    const owner = await signup('Proof Inc', { verify: false });
    await forgot(owner.email, '198.18.0.4');
    expect((await reset(linkToken(await mailTo(owner.email, 'reset_password')))).status).toBe(200);
    const s = await login(owner.email, NEW_PASSWORD);
    expect((await call('GET', '/api/auth/me', { session: s })).json.user.emailVerified).toBe(true);
  });
});

describe('single use under races', () => {
  it('lets exactly one of two simultaneous resets with the same link through', async () => {
    const owner = await signup('Race Inc');
    await forgot(owner.email, '198.18.0.9');
    const token = linkToken(await mailTo(owner.email, 'reset_password'));
    const results = await Promise.all([
      reset(token, 'first racing passphrase'),
      reset(token, 'second racing passphrase'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    const winner = results[0].status === 200 ? 'first racing passphrase' : 'second racing passphrase';
    await login(owner.email, winner);
  });
});

describe('removed members', () => {
  it('can be removed with a reset link pending, which then leads nowhere', async () => {
    const owner = await signup('Removal Inc');
    const member = await addMember(owner, 'editor');
    await forgot(member.email, '198.18.0.10');
    const token = linkToken(await mailTo(member.email, 'reset_password'));
    expect((await call('DELETE', `/api/members/${member.user.id}`, { session: owner })).status).toBe(200);
    const res = await reset(token);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_link');
  });
});
