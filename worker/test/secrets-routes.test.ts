/**
 * /api/secrets: create, replace, rotate, delete, list with usage; who may; the audit
 * trail; publish refused for secrets that are missing or not granted.
 */
import { createExecutionContext, env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { createDb } from '../src/db/client';
import type { Env } from '../src/env';
import { secretReferencesCheck } from '../src/secrets/publish-check';
import { Workflow } from '../src/workflows/workflow-file';
import { addMember, BASE, call, createToken, signup, type Session } from './helpers/api';

const MASK = '********';
// The tests' own deployment settings: a developer's .dev.vars (which the test pool also
// reads) must not decide what these tests see.
const NO_GRANTS = { ...env, AUTOMATE_ENV_GRANTS: undefined } as Env;

/** Like `call`, against a Worker with these variables. */
async function callWith(workerEnv: Env, method: string, path: string, opts: { session: Session; body?: unknown }) {
  const headers: Record<string, string> = { cookie: opts.session.cookie, origin: BASE };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await createApp().request(
    `${BASE}${path}`,
    { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) },
    workerEnv,
    createExecutionContext(),
  );
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

/** A workflow using a stored secret in step 2 and, optionally, the webhook verify secret and an env key. */
function flow(key: string, opts: { stored?: string; verify?: string; env?: string } = {}) {
  return {
    key,
    name: `Flow ${key}`,
    trigger: opts.verify
      ? { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: opts.verify } } }
      : { type: 'api' },
    steps: [
      { id: 'first', type: 'transform', output: { ok: true }, next: 'call_api' },
      {
        id: 'call_api',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: { url: 'https://api.example.com', headers: { authorization: 'Bearer {{ secrets.API_KEY }}' } },
        secrets: {
          API_KEY: { $secret: opts.stored ?? 'API_TOKEN' },
          ...(opts.env ? { ENV_ONE: { $secret: opts.env, backend: 'env' } } : {}),
        },
      },
    ],
  };
}

async function audit(owner: Session, action: string) {
  const res = await call('GET', `/api/audit?action=${action}`, { session: owner });
  return res.json.entries as any[];
}

describe('writing secrets', () => {
  let owner: Session;
  beforeAll(async () => {
    owner = await signup('Secrets Co');
  });

  it('creates (201), replaces (200) and rotates (200), bumping the version and never returning the value', async () => {
    const created = await call('PUT', '/api/secrets/ERP_API_KEY', { session: owner, body: { value: 'value-one-1' } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      key: 'ERP_API_KEY',
      backend: 'stored',
      value: MASK,
      version: 1,
      createdAt: expect.any(Number),
      rotatedAt: null,
      previousValidUntil: null,
    });

    const replaced = await call('PUT', '/api/secrets/ERP_API_KEY', { session: owner, body: { value: 'value-two-2' } });
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({
      version: 2,
      value: MASK,
      createdAt: created.json.createdAt,
      rotatedAt: expect.any(Number),
    });

    const rotated = await call('POST', '/api/secrets/ERP_API_KEY/rotate', {
      session: owner,
      body: { value: 'value-three-3' },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ key: 'ERP_API_KEY', version: 3, value: MASK });
    for (const r of [created, replaced, rotated]) expect(r.text).not.toMatch(/value-(one|two|three)/);
  });

  it('writes an audit entry per change with actor and version, never the value', async () => {
    const [create] = await audit(owner, 'secret.create');
    expect(create).toMatchObject({
      actorType: 'user',
      actorId: owner.user.id,
      actorLabel: owner.email,
      targetType: 'secret',
      targetId: 'ERP_API_KEY',
      context: { backend: 'stored', version: 1 },
    });
    const [update] = await audit(owner, 'secret.update');
    expect(update.context).toMatchObject({ version: 2, previousVersion: 1 });
    const [rotate] = await audit(owner, 'secret.rotate');
    expect(rotate.context).toMatchObject({ version: 3, previousVersion: 2 });
    const all = await call('GET', '/api/audit', { session: owner });
    expect(all.text).not.toMatch(/value-(one|two|three)/);
  });

  it('rotates only what exists', async () => {
    const res = await call('POST', '/api/secrets/NEVER_SET/rotate', { session: owner, body: { value: 'whatever-1' } });
    expect(res.status).toBe(404);
    expect(res.json.error.message).toBe('Secret "NEVER_SET" not found');
  });

  it('refuses bad keys and values, naming the field', async () => {
    const cases: [string, unknown, string][] = [
      ['/api/secrets/lower_case', { value: 'x-value' }, 'param.key'],
      ['/api/secrets/GOOD_KEY', { value: '' }, 'value'],
      ['/api/secrets/GOOD_KEY', { value: 'x'.repeat(16 * 1024 + 1) }, 'value'],
      ['/api/secrets/GOOD_KEY', { value: 'é'.repeat(8 * 1024 + 1) }, 'value'],
      ['/api/secrets/GOOD_KEY', { value: 12345678 }, 'value'],
      ['/api/secrets/GOOD_KEY', {}, 'value'],
      ['/api/secrets/GOOD_KEY', { value: 'ok-value', extra: 1 }, 'extra'],
    ];
    for (const [path, body, field] of cases) {
      const res = await call('PUT', path, { session: owner, body });
      expect(res.status, `${path} ${JSON.stringify(body).slice(0, 40)}`).toBe(400);
      expect(res.json.error.details.map((d: any) => d.path)).toContain(field);
    }
    // The largest value that fits is accepted.
    expect(
      (await call('PUT', '/api/secrets/BIG_ONE', { session: owner, body: { value: 'x'.repeat(16 * 1024) } })).status,
    ).toBe(201);
  });

  it('deletes, with an audit entry, and 404s after', async () => {
    await call('PUT', '/api/secrets/TO_DELETE', { session: owner, body: { value: 'delete-me-1' } });
    const res = await call('DELETE', '/api/secrets/TO_DELETE', { session: owner });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ key: 'TO_DELETE', deleted: true, version: 1 });
    expect((await audit(owner, 'secret.delete'))[0]).toMatchObject({ targetId: 'TO_DELETE', context: { version: 1 } });
    expect((await call('DELETE', '/api/secrets/TO_DELETE', { session: owner })).status).toBe(404);
    // Created again, it starts over.
    expect(
      (await call('PUT', '/api/secrets/TO_DELETE', { session: owner, body: { value: 'again-1' } })).json.version,
    ).toBe(1);
  });

  it('answers a clear error when the deployment has no master key', async () => {
    const app = createApp();
    const noKey = { ...env, AUTOMATE_MASTER_KEY: undefined } as Env;
    const res = await app.request(
      `${BASE}/api/secrets/ANY_KEY`,
      {
        method: 'PUT',
        headers: { cookie: owner.cookie, origin: BASE, 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'some-value' }),
      },
      noKey,
      createExecutionContext(),
    );
    const body = (await res.json()) as any;
    // The operator must fix it; nothing the caller did wrong, and not a crash either.
    expect(res.status).toBe(503);
    expect(body.error.code).toBe('secrets_not_configured');
    expect(body.error.message).toMatch(/AUTOMATE_MASTER_KEY/);
  });
});

describe('who may', () => {
  let owner: Session;
  beforeAll(async () => {
    owner = await signup('Secrets Roles');
  });

  it('lets owners, admins and secrets:write tokens in; editors, viewers and other tokens out', async () => {
    const admin = await addMember(owner, 'admin');
    expect(
      (await call('PUT', '/api/secrets/BY_ADMIN', { session: admin, body: { value: 'admin-value' } })).status,
    ).toBe(201);
    for (const role of ['editor', 'viewer'] as const) {
      const s = await addMember(owner, role);
      expect((await call('GET', '/api/secrets', { session: s })).status).toBe(403);
      expect((await call('PUT', '/api/secrets/BY_ROLE', { session: s, body: { value: 'role-value' } })).status).toBe(
        403,
      );
    }
    const writer = await createToken(owner, ['secrets:write']);
    expect(
      (await call('POST', '/api/secrets/BY_ADMIN/rotate', { token: writer, body: { value: 'token-value' } })).status,
    ).toBe(200);
    expect((await call('GET', '/api/secrets', { token: writer })).status).toBe(200);
    const reader = await createToken(owner, ['workflows:read', 'workflows:write', 'audit:read']);
    expect((await call('GET', '/api/secrets', { token: reader })).status).toBe(403);
    const [rotate] = await audit(owner, 'secret.rotate');
    expect(rotate).toMatchObject({ actorType: 'token', targetId: 'BY_ADMIN', context: { version: 2 } });
  });

  it("keeps tenants apart: same key, separate secrets; another tenant's key is 404", async () => {
    const other = await signup('Secrets Other');
    await call('PUT', '/api/secrets/SHARED_NAME', { session: owner, body: { value: 'owner-value' } });
    expect(
      (await call('POST', '/api/secrets/SHARED_NAME/rotate', { session: other, body: { value: 'x-value' } })).status,
    ).toBe(404);
    expect((await call('DELETE', '/api/secrets/SHARED_NAME', { session: other })).status).toBe(404);
    expect((await call('GET', '/api/secrets', { session: other })).json.secrets).toEqual([]);
    expect(
      (await call('PUT', '/api/secrets/SHARED_NAME', { session: other, body: { value: 'other-value' } })).json.version,
    ).toBe(1);
    const mine = await call('GET', '/api/secrets', { session: owner });
    expect(mine.json.secrets.find((s: any) => s.key === 'SHARED_NAME').version).toBe(1);
  });
});

describe('governance list and delete refusal', () => {
  let owner: Session;
  beforeAll(async () => {
    owner = await signup('Governance Co');
    await call('PUT', '/api/secrets/API_TOKEN', { session: owner, body: { value: 'api-token-value' } });
    await call('PUT', '/api/secrets/HOOK_SECRET', { session: owner, body: { value: 'whsec_dGVzdHRlc3R0ZXN0' } });
    await call('PUT', '/api/secrets/UNUSED', { session: owner, body: { value: 'unused-value' } });
    expect(
      (
        await call('POST', '/api/workflows/import?publish=true', {
          session: owner,
          body: flow('live_flow', { verify: 'HOOK_SECRET' }),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/api/workflows/import', {
          session: owner,
          body: flow('draft_flow', { stored: 'UNUSED', env: 'SOME_ENV_KEY' }),
        })
      ).status,
    ).toBe(201);
  });

  it('lists key, backend, version, dates and where each secret is used', async () => {
    const res = await callWith(NO_GRANTS, 'GET', '/api/secrets', { session: owner });
    expect(res.status).toBe(200);
    const byKey = Object.fromEntries(res.json.secrets.map((s: any) => [`${s.key}/${s.backend}`, s]));
    expect(Object.keys(byKey).sort()).toEqual([
      'API_TOKEN/stored',
      'HOOK_SECRET/stored',
      'SOME_ENV_KEY/env',
      'UNUSED/stored',
    ]);
    expect(byKey['API_TOKEN/stored']).toEqual({
      key: 'API_TOKEN',
      backend: 'stored',
      value: MASK,
      version: 1,
      createdAt: expect.any(Number),
      rotatedAt: null,
      lastUsedAt: null,
      previousValidUntil: null,
      usedBy: [
        { workflow: 'live_flow', version: 1, step: 'call_api', field: 'steps[1].secrets.API_KEY' },
        { workflow: 'live_flow', version: 'draft', step: 'call_api', field: 'steps[1].secrets.API_KEY' },
      ],
    });
    expect(byKey['HOOK_SECRET/stored'].usedBy[0]).toEqual({
      workflow: 'live_flow',
      version: 1,
      step: null,
      field: 'trigger.verify.secret',
    });
    expect(byKey['UNUSED/stored'].usedBy).toEqual([
      { workflow: 'draft_flow', version: 'draft', step: 'call_api', field: 'steps[1].secrets.API_KEY' },
    ]);
    // Not granted: listed, and nothing said about the variable.
    expect(byKey['SOME_ENV_KEY/env']).toMatchObject({ backend: 'env', value: MASK, version: null, granted: false });
    expect(byKey['SOME_ENV_KEY/env']).not.toHaveProperty('set');
    expect(res.text).not.toMatch(/api-token-value|unused-value|whsec_/);
  });

  it('says of a granted env key whether its variable is set', async () => {
    const granted = {
      ...env,
      AUTOMATE_ENV_GRANTS: JSON.stringify({ [owner.tenant.slug]: ['SOME_ENV_KEY'] }),
      AUTOMATE_SOME_ENV_KEY: 'env-value-123',
    } as Env;
    const res = await callWith(granted, 'GET', '/api/secrets', { session: owner });
    expect(res.json.secrets.find((s: any) => s.backend === 'env')).toMatchObject({
      key: 'SOME_ENV_KEY',
      granted: true,
      set: true,
      value: MASK,
    });
    expect(res.text).not.toContain('env-value-123');
  });

  it('refuses to delete a secret an active workflow uses, naming the workflows', async () => {
    const res = await call('DELETE', '/api/secrets/API_TOKEN', { session: owner });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('secret_in_use');
    expect(res.json.error.message).toBe(
      'Secret "API_TOKEN" is used by active workflows: live_flow (v1). Publish versions that no longer use it first.',
    );
    expect(res.json.error.details).toEqual([
      {
        path: 'workflows.live_flow.steps[1].secrets.API_KEY',
        message: 'active version 1 of "live_flow", step "call_api" uses this secret',
      },
    ]);
    expect((await call('DELETE', '/api/secrets/HOOK_SECRET', { session: owner })).status).toBe(409);
    // Still there.
    expect(
      (await call('POST', '/api/secrets/API_TOKEN/rotate', { session: owner, body: { value: 'api-token-v2' } })).status,
    ).toBe(200);
  });

  it('allows deleting a secret only drafts use, and one no longer used by the active version', async () => {
    expect((await call('DELETE', '/api/secrets/UNUSED', { session: owner })).status).toBe(200);
    await call('PUT', '/api/secrets/REPLACEMENT', { session: owner, body: { value: 'replacement-value' } });
    expect(
      (
        await call('POST', '/api/workflows/import?publish=true', {
          session: owner,
          body: flow('live_flow', { stored: 'REPLACEMENT', verify: 'HOOK_SECRET' }),
        })
      ).status,
    ).toBe(200);
    expect((await call('DELETE', '/api/secrets/API_TOKEN', { session: owner })).status).toBe(200);
  });
});

describe('publish-time check', () => {
  let owner: Session;
  beforeAll(async () => {
    owner = await signup('Publish Co');
  });

  it('refuses to publish a workflow whose stored secrets do not exist, naming step and field', async () => {
    await call('POST', '/api/workflows/import', {
      session: owner,
      body: flow('needs_secrets', { stored: 'MISSING_ONE', verify: 'MISSING_HOOK' }),
    });
    const res = await call('POST', '/api/workflows/needs_secrets/publish', { session: owner });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      {
        path: 'trigger.verify.secret',
        message:
          'trigger: stored secret "MISSING_HOOK" does not exist; create it first (PUT /api/secrets/MISSING_HOOK)',
      },
      {
        path: 'steps[1].secrets.API_KEY',
        message:
          'step "call_api": stored secret "MISSING_ONE" does not exist; create it first (PUT /api/secrets/MISSING_ONE)',
      },
    ]);
    expect((await call('GET', '/api/workflows/needs_secrets', { session: owner })).json.activeVersion).toBeNull();

    await call('PUT', '/api/secrets/MISSING_ONE', { session: owner, body: { value: 'now-it-exists' } });
    await call('PUT', '/api/secrets/MISSING_HOOK', { session: owner, body: { value: 'whsec_bm93aXRleGlzdHM=' } });
    const ok = await call('POST', '/api/workflows/needs_secrets/publish', { session: owner });
    expect(ok.status).toBe(200);
    expect(ok.json.version).toBe(1);
  });

  it("does not count another tenant's secret of the same name", async () => {
    const other = await signup('Publish Other');
    await call('POST', '/api/workflows/import', { session: other, body: flow('borrow', { stored: 'MISSING_ONE' }) });
    const res = await call('POST', '/api/workflows/borrow/publish', { session: other });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('steps[1].secrets.API_KEY');
  });

  it('refuses env keys the tenant was not granted', async () => {
    await call('PUT', '/api/secrets/API_TOKEN', { session: owner, body: { value: 'api-token-value' } });
    const res = await callWith(NO_GRANTS, 'POST', '/api/workflows/import?publish=true', {
      session: owner,
      body: flow('env_flow', { env: 'STRIPE_KEY' }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      {
        path: 'steps[1].secrets.ENV_ONE',
        message:
          'step "call_api": env key "STRIPE_KEY" is not granted to this tenant; the operator grants env keys in AUTOMATE_ENV_GRANTS (docs/secrets.md)',
      },
    ]);
  });

  it('checks env grants and that the granted variable is set', async () => {
    const db = createDb(env.DB);
    const wf = Workflow.parse(flow('env_flow', { env: 'STRIPE_KEY' }));
    await call('PUT', '/api/secrets/API_TOKEN', { session: owner, body: { value: 'api-token-value' } });
    const grants = JSON.stringify({ [owner.tenant.slug]: ['STRIPE_KEY'] });
    const granted = secretReferencesCheck({
      ...env,
      AUTOMATE_ENV_GRANTS: grants,
      AUTOMATE_STRIPE_KEY: 'sk_x_1234',
    } as Env);
    expect(await granted(db, owner.tenant.id, wf)).toEqual([]);
    const unset = secretReferencesCheck({ ...env, AUTOMATE_ENV_GRANTS: grants } as Env);
    expect(await unset(db, owner.tenant.id, wf)).toEqual([
      {
        path: 'steps[1].secrets.ENV_ONE',
        message: 'step "call_api": env key "STRIPE_KEY": the Worker variable AUTOMATE_STRIPE_KEY is not set',
      },
    ]);
    const reserved = secretReferencesCheck({ ...env, AUTOMATE_ENV_GRANTS: '*' } as Env);
    const wfMaster = Workflow.parse(flow('env_master', { env: 'MASTER_KEY' }));
    expect((await reserved(db, owner.tenant.id, wfMaster))[0].message).toMatch(/reserved for the platform/);
  });
});
