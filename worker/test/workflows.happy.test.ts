/** Walks the contract as a code-first team would: sign up → token → import → publish → versions → roll back → export. */
import { describe, expect, it } from 'vitest';
import orderFlow from '../../workflows/order_flow.json';
import { call, createToken, putSecrets, signup } from './helpers/api';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

describe('workflow lifecycle', () => {
  it('imports, publishes, versions, rolls back and exports unchanged', async () => {
    const owner = await signup('Acme Shop');
    const me = await call('GET', '/api/auth/me', { session: owner });
    expect(me.status).toBe(200);
    expect(me.json.user.role).toBe('owner');
    expect(me.json.tenant.slug).toBe('acme-shop');

    await putSecrets(owner);
    const token = await createToken(owner, ['workflows:read', 'workflows:write']);
    expect(token).toMatch(/^atm_[A-Za-z0-9_-]{40,}$/);

    const imported = await call('POST', '/api/workflows/import', { token, body: orderFlow });
    expect(imported.status).toBe(201);
    expect(imported.json).toEqual({ key: 'order_flow', created: true });

    const v1 = await call('POST', '/api/workflows/order_flow/publish', { token });
    expect(v1.status).toBe(200);
    expect(v1.json).toEqual({ version: 1, unchanged: false });

    // Publishing an unchanged draft again makes no new version (idempotent CI imports).
    const again = await call('POST', '/api/workflows/order_flow/publish', { token });
    expect(again.json).toEqual({ version: 1, unchanged: true });

    const edited = clone(orderFlow);
    edited.steps[0].rule = { '>=': [{ var: 'trigger.body.total' }, 500] };
    const saved = await call('PUT', '/api/workflows/order_flow', { token, body: edited });
    expect(saved.status).toBe(200);
    expect(saved.json.created).toBe(false);

    const detail = await call('GET', '/api/workflows/order_flow', { token });
    expect(detail.json.activeVersion).toBe(1);
    expect(detail.json.draft.steps[0].rule['>='][1]).toBe(500);
    expect(detail.json.active.steps[0].rule['>='][1]).toBe(1000);
    expect(detail.json.hookId).toMatch(/^hk_/);

    const v2 = await call('POST', '/api/workflows/order_flow/publish', { token });
    expect(v2.json).toEqual({ version: 2, unchanged: false });

    const versions = await call('GET', '/api/workflows/order_flow/versions', { token });
    expect(versions.json.versions.map((v: any) => [v.version, v.active])).toEqual([
      [2, true],
      [1, false],
    ]);

    const rollback = await call('POST', '/api/workflows/order_flow/versions/1/activate', { token });
    expect(rollback.status).toBe(200);
    const afterRollback = await call('GET', '/api/workflows/order_flow', { token });
    expect(afterRollback.json.activeVersion).toBe(1);
    expect(afterRollback.json.active.steps[0].rule['>='][1]).toBe(1000);

    const exportedV1 = await call('GET', '/api/workflows/order_flow/export?version=1', { token });
    expect(exportedV1.status).toBe(200);
    expect(exportedV1.json).toEqual(orderFlow);
    const exportedDraft = await call('GET', '/api/workflows/order_flow/export', { token });
    expect(exportedDraft.json).toEqual(edited);

    // Round trip: the export imports unchanged, into another tenant too.
    const other = await signup('Other Co');
    await putSecrets(other);
    const otherToken = await createToken(other);
    const reimport = await call('POST', '/api/workflows/import?publish=true', {
      token: otherToken,
      rawBody: exportedV1.text,
    });
    expect(reimport.status).toBe(201);
    expect(reimport.json).toMatchObject({ key: 'order_flow', created: true, version: 1 });
    const reexport = await call('GET', '/api/workflows/order_flow/export', { token: otherToken });
    expect(reexport.text).toBe(exportedV1.text);

    const list = await call('GET', '/api/workflows', { token });
    expect(list.json.workflows).toHaveLength(1);
    expect(list.json.workflows[0]).toMatchObject({
      key: 'order_flow',
      name: 'High value order flow',
      activeVersion: 1,
    });
  });

  it('writes an audit entry for every change, with the actor', async () => {
    const owner = await signup();
    await putSecrets(owner);
    const token = await createToken(owner, ['workflows:read', 'workflows:write'], 'ci-deploy');
    await call('POST', '/api/workflows/import?publish=true', { token, body: orderFlow });
    await call('POST', '/api/workflows/order_flow/versions/1/activate', { token });
    const audit = await call('GET', '/api/audit', { session: owner });
    expect(audit.status).toBe(200);
    const actions = audit.json.entries.map((e: any) => e.action);
    expect(actions).toEqual([
      'workflow.activate',
      'workflow.publish',
      'workflow.import',
      'token.create',
      'secret.create',
      'secret.create',
      'secret.create',
      // Sign-up mails a confirmation link; the helper follows it (docs/accounts.md).
      'auth.email_verified',
      'auth.verification_sent',
      'auth.signup',
    ]);
    const publishEntry = audit.json.entries.find((e: any) => e.action === 'workflow.publish');
    expect(publishEntry).toMatchObject({ actorType: 'token', actorLabel: 'ci-deploy', targetId: 'order_flow' });
    expect(typeof publishEntry.at).toBe('number');
    const tokenEntry = audit.json.entries.find((e: any) => e.action === 'token.create');
    expect(tokenEntry).toMatchObject({ actorType: 'user', actorLabel: owner.email });
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const res = await call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    const paths = Object.keys(res.json.paths);
    for (const p of [
      '/auth/signup',
      '/tokens',
      '/tokens/{id}',
      '/workflows/import',
      '/workflows/{key}/publish',
      '/workflows/{key}/versions/{n}/activate',
      '/workflows/{key}/export',
    ]) {
      expect(paths).toContain(p);
    }
    const importBody = res.json.paths['/workflows/import'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(res.json.components.schemas.WorkflowFile ?? importBody)).toContain('steps');
  });
});

describe('roll back', () => {
  it('refuses to activate a version whose secret no longer exists, naming the field', async () => {
    const owner = await signup();
    await putSecrets(owner);
    const token = await createToken(owner, ['workflows:read', 'workflows:write', 'secrets:write']);
    await call('POST', '/api/workflows/import?publish=true', { token, body: orderFlow });
    // v2 no longer uses SALES_HOOK_TOKEN, so the secret can be deleted...
    const v2: any = clone(orderFlow);
    v2.steps[2].params.headers = {};
    delete v2.steps[2].secrets;
    await call('POST', '/api/workflows/import?publish=true', { token, body: v2 });
    expect((await call('DELETE', '/api/secrets/SALES_HOOK_TOKEN', { token })).status).toBe(200);
    // ...and rolling back to v1 would fail every run: refused up front.
    const res = await call('POST', '/api/workflows/order_flow/versions/1/activate', { token });
    expect(res.status).toBe(400);
    expect(res.json.error.details.map((d: any) => d.path)).toContain('steps[2].secrets.SALES_TOKEN');
    const detail = await call('GET', '/api/workflows/order_flow', { token });
    expect(detail.json.activeVersion).toBe(2);
  });
});
