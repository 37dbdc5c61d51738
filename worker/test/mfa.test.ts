/**
 * TOTP two-factor authentication through the public API against real D1: enrolment, sign-in
 * with a code or a recovery code, replay, disabling, the tenant-wide requirement, challenge
 * expiry and rate limits, owner reset, tenant isolation, and the secret encrypted at rest.
 */
import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { reencryptMfaBatch } from '../src/auth/mfa/mfa-store';
import { createSession } from '../src/auth/sessions';
import { createDb } from '../src/db/client';
import type { Env } from '../src/env';
import { parseKeyring } from '../src/secrets/keyring';
import { addMember, BASE, call, createToken, type Session, signup } from './helpers/api';
import { enrolMfa, nextCode, passwordStep, sessionCookie, signInWithMfa, wrongCode } from './helpers/mfa';

const db = createDb(env.DB);

const auditOf = async (who: Session, action: string) =>
  (await call('GET', `/api/audit?action=${encodeURIComponent(action)}`, { session: who })).json.entries as any[];

const verify = (challenge: string, proof: Record<string, string>, headers?: Record<string, string>) =>
  call('POST', '/api/auth/mfa/verify', { body: { challenge, ...proof }, headers });

describe('enrolment', () => {
  it('shows the secret once, confirms with a current code, and gives ten recovery codes', async () => {
    const owner = await signup();
    const status0 = await call('GET', '/api/auth/mfa', { session: owner });
    expect(status0.json).toMatchObject({ enabled: false, enrollmentPending: false, requiredByTenant: false });

    const started = await call('POST', '/api/auth/mfa/enroll', { session: owner });
    expect(started.status).toBe(201);
    const { secret, otpauthUri } = started.json;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri).toBe(
      `otpauth://totp/Automate:${encodeURIComponent(owner.email)}?secret=${secret}&issuer=Automate&algorithm=SHA1&digits=6&period=30`,
    );
    expect((await call('GET', '/api/auth/mfa', { session: owner })).json).toMatchObject({
      enabled: false,
      enrollmentPending: true,
    });
    // Not on until confirmed: sign-in still needs only the password.
    expect(
      (await call('POST', '/api/auth/login', { body: { email: owner.email, password: owner.password } })).status,
    ).toBe(200);

    const wrong = await call('POST', '/api/auth/mfa/enroll/confirm', {
      session: owner,
      body: { code: await wrongCode(secret) },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('invalid_mfa_code');
    const bad = await call('POST', '/api/auth/mfa/enroll/confirm', { session: owner, body: { code: '12ab56' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('code');

    const code = await nextCode(secret);
    const confirmed = await call('POST', '/api/auth/mfa/enroll/confirm', { session: owner, body: { code } });
    expect(confirmed.status).toBe(200);
    const codes: string[] = confirmed.json.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);

    const status = await call('GET', '/api/auth/mfa', { session: owner });
    expect(status.json).toMatchObject({ enabled: true, enrollmentPending: false, recoveryCodesLeft: 10 });
    expect(JSON.stringify(status.json)).not.toContain(secret);
    const me = await call('GET', '/api/auth/me', { session: owner });
    expect(me.json.user).toMatchObject({ mfaEnabled: true, mfaEnrollmentRequired: false });

    // A second enrolment while on is refused; the secret is never shown again.
    const again = await call('POST', '/api/auth/mfa/enroll', { session: owner });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('mfa_already_enabled');

    // Replay: the code that confirmed cannot sign in.
    const challenge = await passwordStep(owner.email, owner.password);
    const replay = await verify(challenge, { code });
    expect(replay.status).toBe(401);
    expect(replay.json.error.code).toBe('invalid_mfa_code');

    const [start, enrol] = [await auditOf(owner, 'mfa.enroll_start'), await auditOf(owner, 'mfa.enroll')];
    expect(start).toHaveLength(1);
    expect(enrol[0]).toMatchObject({ actorLabel: owner.email, targetId: owner.user.id, context: { method: 'totp' } });

    // Nothing secret at rest in plain text, nor in the audit log.
    const row = await env.DB.prepare('SELECT * FROM user_mfa WHERE user_id = ?').bind(owner.user.id).first<any>();
    expect(row.key_id).toBe(env.AUTOMATE_MASTER_KEY!.split(':')[0]);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(btoa(secret));
    const hashes = await env.DB.prepare('SELECT * FROM mfa_recovery_codes WHERE user_id = ?').bind(owner.user.id).all();
    expect(hashes.results).toHaveLength(10);
    const audit = JSON.stringify((await call('GET', '/api/audit?action=mfa.*', { session: owner })).json);
    for (const text of [JSON.stringify(hashes.results), audit]) {
      expect(text).not.toContain(secret);
      for (const c of codes) {
        expect(text).not.toContain(c);
        expect(text).not.toContain(c.replace(/-/g, ''));
      }
    }
  });
});

describe('sign-in', () => {
  it('asks for a code after the password, and the challenge works once', async () => {
    const owner = await signup();
    const { secret } = await enrolMfa(owner);
    const login = await call('POST', '/api/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(login.status).toBe(202);
    expect(login.json).toMatchObject({ mfaRequired: true, challenge: expect.any(String) });
    expect(login.json.expiresAt - Date.now()).toBeGreaterThan(4 * 60_000);
    expect(login.headers.get('set-cookie')).toBeNull();
    // The challenge is no session.
    expect(
      (await call('GET', '/api/auth/me', { headers: { cookie: `automate_session=${login.json.challenge}` } })).status,
    ).toBe(401);
    const stored = await env.DB.prepare('SELECT id_hash FROM mfa_challenges WHERE user_id = ?')
      .bind(owner.user.id)
      .all();
    expect(JSON.stringify(stored.results)).not.toContain(login.json.challenge);

    const ok = await verify(login.json.challenge, { code: await nextCode(secret) });
    expect(ok.status).toBe(200);
    expect(ok.json.user).toMatchObject({ id: owner.user.id, mfaEnabled: true });
    const session = { ...owner, cookie: sessionCookie(ok.headers) };
    expect((await call('GET', '/api/workflows', { session })).status).toBe(200);

    const reused = await verify(login.json.challenge, { code: await nextCode(secret) });
    expect(reused.status).toBe(401);
    expect(reused.json.error.code).toBe('mfa_challenge_invalid');

    const logins = await auditOf(owner, 'auth.login');
    expect(logins[0]).toMatchObject({ actorLabel: owner.email, context: { mfa: 'totp' } });
  });

  it('takes a recovery code once', async () => {
    const owner = await signup();
    const { recoveryCodes } = await enrolMfa(owner);
    // Typed with spaces and capitals, as people do.
    const typed = recoveryCodes[3].toUpperCase().replace(/-/g, ' ');
    await signInWithMfa(owner, { recoveryCode: typed });
    const again = await verify(await passwordStep(owner.email, owner.password), { recoveryCode: recoveryCodes[3] });
    expect(again.status).toBe(401);
    expect(again.json.error.code).toBe('invalid_mfa_code');
    expect((await call('GET', '/api/auth/mfa', { session: owner })).json.recoveryCodesLeft).toBe(9);
    const used = await auditOf(owner, 'mfa.recovery_code_used');
    expect(used).toHaveLength(1);
    expect(used[0].context).toEqual({ remaining: 9 });
    const failed = await auditOf(owner, 'mfa.challenge_failed');
    expect(failed[0]).toMatchObject({
      actorType: 'anonymous',
      targetId: owner.user.id,
      context: { method: 'recovery_code' },
    });
    expect(JSON.stringify(failed)).not.toContain(recoveryCodes[3]);
  });

  it('refuses an expired challenge', async () => {
    const owner = await signup();
    const { secret } = await enrolMfa(owner);
    const challenge = await passwordStep(owner.email, owner.password);
    // Five minutes pass.
    await env.DB.prepare('UPDATE mfa_challenges SET expires_at = ? WHERE user_id = ?')
      .bind(Date.now() - 1, owner.user.id)
      .run();
    const res = await verify(challenge, { code: await nextCode(secret) });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('mfa_challenge_invalid');
  });

  it('ends a challenge after 5 wrong codes and limits a user to 10 per 15 minutes', async () => {
    const owner = await signup();
    const { secret } = await enrolMfa(owner);
    const challenge = await passwordStep(owner.email, owner.password);
    for (let i = 0; i < 5; i++) {
      const res = await verify(challenge, { code: await wrongCode(secret) });
      expect(res.json.error.code).toBe('invalid_mfa_code');
    }
    const ended = await verify(challenge, { code: await nextCode(secret) });
    expect(ended.json.error.code).toBe('mfa_challenge_invalid');

    // A fresh challenge does not reset the per-user count: 5 more wrong, then even a right code waits.
    const second = await passwordStep(owner.email, owner.password);
    for (let i = 0; i < 5; i++) await verify(second, { code: await wrongCode(secret) });
    const third = await passwordStep(owner.email, owner.password);
    const limited = await verify(third, { code: await nextCode(secret) });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await auditOf(owner, 'mfa.challenge_failed')).toHaveLength(10);
  });
});

describe('recovery codes and disabling', () => {
  it('regenerates recovery codes with a current code; the old ones stop working', async () => {
    const owner = await signup();
    const { secret, recoveryCodes } = await enrolMfa(owner);
    const without = await call('POST', '/api/auth/mfa/recovery-codes', { session: owner, body: {} });
    expect(without.status).toBe(400);
    const res = await call('POST', '/api/auth/mfa/recovery-codes', {
      session: owner,
      body: { code: await nextCode(secret) },
    });
    expect(res.status).toBe(200);
    expect(res.json.recoveryCodes).toHaveLength(10);
    expect(res.json.recoveryCodes).not.toContain(recoveryCodes[0]);
    const old = await verify(await passwordStep(owner.email, owner.password), { recoveryCode: recoveryCodes[0] });
    expect(old.json.error.code).toBe('invalid_mfa_code');
    await signInWithMfa(owner, { recoveryCode: res.json.recoveryCodes[0] });
    expect(await auditOf(owner, 'mfa.recovery_codes_regenerate')).toHaveLength(1);
  });

  it('disables only with a current code or a recovery code', async () => {
    const owner = await signup();
    const { secret, recoveryCodes } = await enrolMfa(owner);
    const none = await call('POST', '/api/auth/mfa/disable', { session: owner, body: {} });
    expect(none.status).toBe(400);
    const both = await call('POST', '/api/auth/mfa/disable', {
      session: owner,
      body: { code: '123456', recoveryCode: recoveryCodes[0] },
    });
    expect(both.status).toBe(400);
    const wrong = await call('POST', '/api/auth/mfa/disable', {
      session: owner,
      body: { code: await wrongCode(secret) },
    });
    expect(wrong.status).toBe(401);
    expect((await call('GET', '/api/auth/mfa', { session: owner })).json.enabled).toBe(true);

    const off = await call('POST', '/api/auth/mfa/disable', { session: owner, body: { code: await nextCode(secret) } });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
    expect(
      (await call('POST', '/api/auth/login', { body: { email: owner.email, password: owner.password } })).status,
    ).toBe(200);
    const rows = await env.DB.prepare(
      'SELECT (SELECT count(*) FROM user_mfa WHERE user_id = ?1) + (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = ?1) AS n',
    )
      .bind(owner.user.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    expect((await auditOf(owner, 'mfa.disable'))[0].context).toEqual({ method: 'totp' });

    // With a recovery code (the phone is gone).
    const again = await enrolMfa(owner);
    const res = await call('POST', '/api/auth/mfa/disable', {
      session: owner,
      body: { recoveryCode: again.recoveryCodes[9] },
    });
    expect(res.status).toBe(200);
    expect((await auditOf(owner, 'mfa.disable'))[0].context).toEqual({ method: 'recovery_code' });
  });
});

describe('tenant-wide requirement', () => {
  it('is an owner setting that needs the owner to have MFA first', async () => {
    const owner = await signup();
    const admin = await addMember(owner, 'admin');
    const byAdmin = await call('PATCH', '/api/settings', { session: admin, body: { mfaRequired: true } });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.json.error.message).toMatch(/Only an owner/);
    // Admins do change the other settings.
    expect((await call('PATCH', '/api/settings', { session: admin, body: { runRetentionDays: 7 } })).status).toBe(200);
    const first = await call('PATCH', '/api/settings', { session: owner, body: { mfaRequired: true } });
    expect(first.status).toBe(409);
    expect(first.json.error.code).toBe('mfa_not_enabled');
    await enrolMfa(owner);
    const on = await call('PATCH', '/api/settings', { session: owner, body: { mfaRequired: true } });
    expect(on.status).toBe(200);
    expect(on.json.mfaRequired).toBe(true);
    expect((await call('GET', '/api/settings', { session: owner })).json.mfaRequired).toBe(true);
    expect((await auditOf(owner, 'mfa.requirement_change'))[0]).toMatchObject({
      actorLabel: owner.email,
      context: { mfaRequired: { from: false, to: true } },
    });
    // The admin has no MFA, so from now on they may only enrol.
    const limited = await call('PATCH', '/api/settings', { session: admin, body: { runRetentionDays: 7 } });
    expect(limited.json.error.code).toBe('mfa_enrollment_required');
  });

  it('limits a member without MFA to enrolling, until they enrol; tokens and SSO sessions are not affected', async () => {
    const owner = await signup();
    const token = await createToken(owner);
    const editor = await addMember(owner, 'editor');
    await enrolMfa(owner);
    expect((await call('PATCH', '/api/settings', { session: owner, body: { mfaRequired: true } })).status).toBe(200);

    // Their existing session is limited from the next request on.
    for (const [method, path, body] of [
      ['GET', '/api/workflows', undefined],
      ['GET', '/api/runs', undefined],
      ['POST', '/api/workflows/import', { key: 'x', name: 'x', trigger: { type: 'api' }, steps: [] }],
      ['GET', '/api/settings', undefined],
    ] as const) {
      const res = await call(method, path, { session: editor, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error.code).toBe('mfa_enrollment_required');
    }
    const me = await call('GET', '/api/auth/me', { session: editor });
    expect(me.status).toBe(200);
    expect(me.json.user).toMatchObject({ mfaEnabled: false, mfaEnrollmentRequired: true });
    // A new sign-in says so straight away.
    const login = await call('POST', '/api/auth/login', { body: { email: editor.email, password: editor.password } });
    expect(login.status).toBe(200);
    expect(login.json.user.mfaEnrollmentRequired).toBe(true);

    // API tokens are not affected.
    expect((await call('GET', '/api/workflows', { token })).status).toBe(200);
    // Nor is a session signed in through SSO (the identity provider does MFA).
    const sso = await createSession(db, owner.tenant.id, editor.user.id, { method: 'sso' });
    const ssoRes = await call('GET', '/api/workflows', { headers: { cookie: `automate_session=${sso.value}` } });
    expect(ssoRes.status).toBe(200);

    const { secret } = await enrolMfa(editor);
    expect((await call('GET', '/api/workflows', { session: editor })).status).toBe(200);
    expect((await call('GET', '/api/auth/me', { session: editor })).json.user.mfaEnrollmentRequired).toBe(false);

    // Disabling is refused while required.
    const off = await call('POST', '/api/auth/mfa/disable', {
      session: editor,
      body: { code: await nextCode(secret) },
    });
    expect(off.status).toBe(409);
    expect(off.json.error.code).toBe('mfa_required_by_tenant');

    // Owners see who has MFA.
    const members = (await call('GET', '/api/members', { session: owner })).json.members;
    expect(members.map((m: any) => [m.email, m.mfaEnabled])).toEqual([
      [owner.email, true],
      [editor.email, true],
    ]);

    // Turning it off lifts the restriction for others at once.
    const viewer = await addMember(owner, 'viewer');
    expect((await call('GET', '/api/workflows', { session: viewer })).status).toBe(403);
    expect((await call('PATCH', '/api/settings', { session: owner, body: { mfaRequired: false } })).status).toBe(200);
    expect((await call('GET', '/api/workflows', { session: viewer })).status).toBe(200);
  });
});

describe('owner reset and isolation', () => {
  it("lets an owner (only) reset a member's MFA, in their own tenant only", async () => {
    const owner = await signup();
    const admin = await addMember(owner, 'admin');
    const editor = await addMember(owner, 'editor');
    await enrolMfa(editor);
    const other = await signup();

    const byAdmin = await call('DELETE', `/api/members/${editor.user.id}/mfa`, { session: admin });
    expect(byAdmin.status).toBe(403);
    const foreign = await call('DELETE', `/api/members/${editor.user.id}/mfa`, { session: other });
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('member_not_found');
    // Another tenant's owner does not see the member either.
    expect(JSON.stringify((await call('GET', '/api/members', { session: other })).json)).not.toContain(editor.email);

    const reset = await call('DELETE', `/api/members/${editor.user.id}/mfa`, { session: owner });
    expect(reset.status).toBe(200);
    expect(reset.json).toEqual({ id: editor.user.id, mfaEnabled: false });
    const again = await call('DELETE', `/api/members/${editor.user.id}/mfa`, { session: owner });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('mfa_not_enabled');
    expect(
      (await call('POST', '/api/auth/login', { body: { email: editor.email, password: editor.password } })).status,
    ).toBe(200);
    expect((await auditOf(owner, 'mfa.reset'))[0]).toMatchObject({
      actorLabel: owner.email,
      targetId: editor.user.id,
      context: { email: editor.email, wasEnabled: true },
    });
    // The other tenant's audit log has none of it.
    expect(await auditOf(other, 'mfa.*')).toEqual([]);
  });

  it('keeps a challenge to its user: one tenant user’s challenge with another’s code fails', async () => {
    const a = await signup();
    const b = await signup();
    await enrolMfa(a);
    const { secret: bSecret } = await enrolMfa(b);
    const res = await verify(await passwordStep(a.email, a.password), { code: await nextCode(bSecret) });
    expect(res.status).toBe(401);
  });

  it('removes a member with MFA cleanly', async () => {
    const owner = await signup();
    const editor = await addMember(owner, 'editor');
    await enrolMfa(editor);
    expect((await call('DELETE', `/api/members/${editor.user.id}`, { session: owner })).status).toBe(200);
    const left = await env.DB.prepare('SELECT count(*) AS n FROM user_mfa WHERE user_id = ?')
      .bind(editor.user.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe('master-key rotation', () => {
  it('moves TOTP secrets to the new master key when used and in the background batch', async () => {
    const owner = await signup();
    const other = await signup();
    const { secret } = await enrolMfa(owner);
    await enrolMfa(other);
    const oldEntry = env.AUTOMATE_MASTER_KEY!;
    const newEntry = `rot2:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    const during = { ...env, AUTOMATE_MASTER_KEY: `${newEntry},${oldEntry}` } as Env;
    const keyOf = async (userId: string) =>
      (await env.DB.prepare('SELECT key_id FROM user_mfa WHERE user_id = ?').bind(userId).first<{ key_id: string }>())
        ?.key_id;

    // Sign-in under the new setting decrypts with the old key and re-seals under the new one.
    const login = await createApp().request(
      `${BASE}/api/auth/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: owner.email, password: owner.password }),
      },
      during,
      createExecutionContext(),
    );
    const { challenge } = (await login.json()) as { challenge: string };
    const done = await createApp().request(
      `${BASE}/api/auth/mfa/verify`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ challenge, code: await nextCode(secret) }),
      },
      during,
      createExecutionContext(),
    );
    expect(done.status).toBe(200);
    expect(await keyOf(owner.user.id)).toBe('rot2');
    expect(await keyOf(other.user.id)).not.toBe('rot2');

    const report = await reencryptMfaBatch(db, await parseKeyring(during.AUTOMATE_MASTER_KEY), 100);
    expect(report).toMatchObject({ failed: 0, remaining: 0 });
    expect(report.reencrypted).toBeGreaterThanOrEqual(1);
    expect(await keyOf(other.user.id)).toBe('rot2');

    // With the old entry retired, sign-in still works.
    const after = { ...env, AUTOMATE_MASTER_KEY: newEntry } as Env;
    const login2 = await createApp().request(
      `${BASE}/api/auth/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: owner.email, password: owner.password }),
      },
      after,
      createExecutionContext(),
    );
    const c2 = ((await login2.json()) as { challenge: string }).challenge;
    const done2 = await createApp().request(
      `${BASE}/api/auth/mfa/verify`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ challenge: c2, code: await nextCode(secret) }),
      },
      after,
      createExecutionContext(),
    );
    expect(done2.status).toBe(200);
  });
});
