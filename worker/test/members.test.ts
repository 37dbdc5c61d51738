/**
 * Members and roles: owners and admins change roles and remove people, within the rules
 * that keep a team owned; a removed member's sessions and tokens stop at once.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { addMember, call, createToken, login, signup, type Session } from './helpers/api';

const patch = (who: Session, id: string, role: string) =>
  call('PATCH', `/api/members/${id}`, { session: who, body: { role } });
const remove = (who: Session, id: string) => call('DELETE', `/api/members/${id}`, { session: who });
const roleOf = async (owner: Session, id: string) =>
  (await call('GET', '/api/members', { session: owner })).json.members.find((m: any) => m.id === id)?.role;

describe('changing roles', () => {
  it('lets an owner promote and demote, and the new role applies to the next request', async () => {
    const owner = await signup();
    const member = await addMember(owner, 'viewer');
    expect((await call('PUT', '/api/workflows/w', { session: member, body: {} })).status).toBe(403);
    const res = await patch(owner, member.user.id, 'editor');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: member.user.id, email: member.email, role: 'editor' });
    // Same session, new role: the session resolves the role on every request.
    const me = await call('GET', '/api/auth/me', { session: member });
    expect(me.json.user.role).toBe('editor');
    const audit = await call('GET', '/api/audit?action=member.role_change', { session: owner });
    expect(audit.json.entries[0]).toMatchObject({
      actorLabel: owner.email,
      targetId: member.user.id,
      context: { email: member.email, from: 'viewer', to: 'editor' },
    });
  });

  it('lets an owner make another owner, then step down', async () => {
    const owner = await signup();
    const admin = await addMember(owner, 'admin');
    expect((await patch(owner, admin.user.id, 'owner')).status).toBe(200);
    expect((await patch(owner, owner.user.id, 'admin')).status).toBe(200);
    expect(await roleOf(admin, owner.user.id)).toBe('admin');
  });

  it('never demotes the last owner, themselves included', async () => {
    const owner = await signup();
    const res = await patch(owner, owner.user.id, 'admin');
    expect(res.status).toBe(409);
    expect(res.json.error.message).toMatch(/at least one owner/);
    expect(await roleOf(owner, owner.user.id)).toBe('owner');
  });

  it('does not let an admin make, demote or remove owners', async () => {
    const owner = await signup();
    const admin = await addMember(owner, 'admin');
    const editor = await addMember(owner, 'editor');
    for (const res of [
      await patch(admin, editor.user.id, 'owner'),
      await patch(admin, admin.user.id, 'owner'),
      await patch(admin, owner.user.id, 'viewer'),
      await remove(admin, owner.user.id),
    ]) {
      expect(res.status).toBe(403);
      expect(res.json.error.message).toMatch(/Only an owner/);
    }
    expect(await roleOf(owner, owner.user.id)).toBe('owner');
    expect(await roleOf(owner, editor.user.id)).toBe('editor');
    // Admins do manage everyone else.
    expect((await patch(admin, editor.user.id, 'viewer')).status).toBe(200);
  });

  it('is refused to editors and viewers', async () => {
    const owner = await signup();
    const viewer = await addMember(owner, 'viewer');
    const editor = await addMember(owner, 'editor');
    expect((await patch(editor, viewer.user.id, 'admin')).status).toBe(403);
    expect((await patch(viewer, viewer.user.id, 'admin')).status).toBe(403);
    expect((await remove(editor, viewer.user.id)).status).toBe(403);
  });

  it('answers 400 for an unknown role and 404 for an unknown or foreign member', async () => {
    const owner = await signup();
    const other = await signup();
    const viewer = await addMember(owner, 'viewer');
    const bad = await patch(owner, viewer.user.id, 'superuser');
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: any) => d.path)).toEqual(['role']);
    expect((await patch(owner, 'usr_nobody', 'viewer')).status).toBe(404);
    expect((await patch(other, viewer.user.id, 'admin')).status).toBe(404);
    expect((await remove(other, viewer.user.id)).status).toBe(404);
    expect(await roleOf(owner, viewer.user.id)).toBe('viewer');
  });
});

describe('removing members', () => {
  it('ends their sessions, revokes their tokens and frees their email', async () => {
    const owner = await signup();
    const admin = await addMember(owner, 'admin');
    const token = await createToken(admin, ['workflows:read']);
    const ownersToken = await createToken(owner, ['workflows:read']);
    expect((await call('GET', '/api/workflows', { token })).status).toBe(200);

    const res = await remove(owner, admin.user.id);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: admin.user.id, removed: true, tokensRevoked: 1 });

    expect((await call('GET', '/api/auth/me', { session: admin })).status).toBe(401);
    expect((await call('GET', '/api/workflows', { token })).status).toBe(401);
    // Other people's tokens keep working.
    expect((await call('GET', '/api/workflows', { token: ownersToken })).status).toBe(200);
    await expect(login(admin.email)).rejects.toThrow(/401/);
    const sessions = await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE user_id = ?')
      .bind(admin.user.id)
      .first<{ n: number }>();
    expect(sessions?.n).toBe(0);
    expect(await roleOf(owner, admin.user.id)).toBeUndefined();

    // The address is free again: it can be invited anew.
    const again = await call('POST', '/api/invitations', {
      session: owner,
      body: { email: admin.email, role: 'viewer' },
    });
    expect(again.status).toBe(201);

    const audit = await call('GET', '/api/audit?action=member.remove', { session: owner });
    expect(audit.json.entries[0]).toMatchObject({
      targetId: admin.user.id,
      context: { email: admin.email, role: 'admin', tokensRevoked: 1 },
    });
  });

  it('never removes the last owner, and leaves their session alone', async () => {
    const owner = await signup();
    const res = await remove(owner, owner.user.id);
    expect(res.status).toBe(409);
    expect((await call('GET', '/api/auth/me', { session: owner })).status).toBe(200);
  });

  it('lets an owner remove another owner, and a member remove themselves', async () => {
    const owner = await signup();
    const second = await addMember(owner, 'admin');
    await patch(owner, second.user.id, 'owner');
    expect((await remove(second, owner.user.id)).status).toBe(200);
    const admin = await addMember(second, 'admin');
    expect((await remove(admin, admin.user.id)).status).toBe(200);
    expect((await call('GET', '/api/auth/me', { session: admin })).status).toBe(401);
  });

  it('keeps one owner when two owners demote each other at the same time', async () => {
    const owner = await signup();
    const second = await addMember(owner, 'admin');
    await patch(owner, second.user.id, 'owner');
    const results = await Promise.all([patch(owner, second.user.id, 'admin'), patch(second, owner.user.id, 'admin')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const members = (await call('GET', '/api/members', { session: owner })).json.members;
    expect(members.filter((m: any) => m.role === 'owner')).toHaveLength(1);
  });
});
