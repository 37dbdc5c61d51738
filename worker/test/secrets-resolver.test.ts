/**
 * Resolving references for a step: the env backend and its per-tenant grants, stored
 * secrets, rotation taking effect mid-run, last-used tracking, and errors that name
 * step and key but never a value.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { failure } from './helpers/secrets';
import { createDb } from '../src/db/client';
import type { Env } from '../src/env';
import { isEnvKeyGranted, parseEnvGrants } from '../src/secrets/env-backend';
import { createSecretResolver } from '../src/secrets/resolver';
import { call, signup, type Session } from './helpers/api';

const db = createDb(env.DB);
const STRIPE = 'sk_test_value_that_must_stay_put_51';
const STRIPE_V2 = 'sk_test_rotated_value_v2_77';
const OTHER = 'other-tenants-env-value-9';
const MASTER = 'must-never-be-read-through-env';

describe('env grants setting', () => {
  it('reads "*", per-tenant JSON, and grants nothing when unset', () => {
    expect(parseEnvGrants('*')).toBe('*');
    expect(parseEnvGrants('"*"')).toBe('*');
    const g = parseEnvGrants('{"acme": ["STRIPE_KEY"], "ops": ["*"]}');
    expect(isEnvKeyGranted(g, 'acme', 'STRIPE_KEY')).toBe(true);
    expect(isEnvKeyGranted(g, 'acme', 'OTHER_KEY')).toBe(false);
    expect(isEnvKeyGranted(g, 'ops', 'ANYTHING')).toBe(true);
    expect(isEnvKeyGranted(g, 'nobody', 'STRIPE_KEY')).toBe(false);
    expect(isEnvKeyGranted(parseEnvGrants(undefined), 'acme', 'STRIPE_KEY')).toBe(false);
  });

  it("never grants the platform's own settings", () => {
    for (const grants of ['*', '{"acme": ["*", "MASTER_KEY", "ENV_GRANTS"]}']) {
      expect(isEnvKeyGranted(parseEnvGrants(grants), 'acme', 'MASTER_KEY')).toBe(false);
      expect(isEnvKeyGranted(parseEnvGrants(grants), 'acme', 'ENV_GRANTS')).toBe(false);
    }
  });

  it('refuses a malformed setting clearly', () => {
    for (const bad of ['{nope', '["STRIPE_KEY"]', '{"acme": "STRIPE_KEY"}', '{"acme": ["lower"]}']) {
      expect(() => parseEnvGrants(bad)).toThrow(/AUTOMATE_ENV_GRANTS/);
    }
  });
});

describe('env backend', () => {
  let granted: Session;
  let other: Session;
  let testEnv: Env;
  beforeAll(async () => {
    granted = await signup('Env Granted');
    other = await signup('Env Other');
    testEnv = {
      ...env,
      AUTOMATE_ENV_GRANTS: JSON.stringify({
        [granted.tenant.slug]: ['STRIPE_KEY', 'STRIPE_KEY_V2', 'UNSET_KEY'],
        [other.tenant.slug]: ['OTHER_KEY'],
      }),
      AUTOMATE_STRIPE_KEY: STRIPE,
      AUTOMATE_STRIPE_KEY_V2: STRIPE_V2,
      AUTOMATE_OTHER_KEY: OTHER,
      AUTOMATE_MASTER_KEY: `${env.AUTOMATE_MASTER_KEY}`,
    } as Env;
  });

  it('gives a tenant the env keys it was granted', async () => {
    const r = await createSecretResolver(testEnv, db).resolveForStep(
      granted.tenant,
      { KEY: { $secret: 'STRIPE_KEY', backend: 'env' } },
      { stepId: 'charge' },
    );
    expect(r.values).toEqual({ KEY: STRIPE });
    expect(r.redactor.scrubText(`Bearer ${STRIPE}`)).toBe('Bearer ********');
  });

  it('answers an ungranted key with an error, not the value', async () => {
    const resolver = createSecretResolver(testEnv, db);
    const e = await failure(
      resolver.resolveForStep(granted.tenant, { KEY: { $secret: 'OTHER_KEY', backend: 'env' } }, { stepId: 'charge' }),
    );
    expect(e.code).toBe('NOT_GRANTED');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(
      'Step "charge": env key "OTHER_KEY" is not granted to this tenant; the operator grants env keys in AUTOMATE_ENV_GRANTS (docs/secrets.md)',
    );
    expect(e.message).not.toContain(OTHER);
    // And the other way round.
    const back = await failure(
      resolver.resolveForStep(other.tenant, { KEY: { $secret: 'STRIPE_KEY', backend: 'env' } }),
    );
    expect(back.message).not.toContain(STRIPE);
  });

  it('never reads the master key or the grants through the env backend, even with "*"', async () => {
    const open = createSecretResolver({ ...testEnv, AUTOMATE_ENV_GRANTS: '*', AUTOMATE_MASTER_KEY: MASTER } as Env, db);
    for (const key of ['MASTER_KEY', 'ENV_GRANTS']) {
      const e = await failure(open.resolveForStep(granted.tenant, { K: { $secret: key, backend: 'env' } }));
      expect(e.code).toBe('NOT_GRANTED');
      expect(e.message).toMatch(/reserved for the platform/);
      expect(e.message).not.toContain(MASTER);
    }
  });

  it('says when a granted variable is not set', async () => {
    const e = await failure(
      createSecretResolver(testEnv, db).resolveForStep(
        granted.tenant,
        { K: { $secret: 'UNSET_KEY', backend: 'env' } },
        { stepId: 's1' },
      ),
    );
    expect(e.code).toBe('ENV_NOT_SET');
    expect(e.message).toMatch(/^Step "s1": env key "UNSET_KEY": the Worker variable AUTOMATE_UNSET_KEY is not set/);
  });

  it('lets every tenant read every env key with "*" (single-tenant self-hosting)', async () => {
    const r = await createSecretResolver({ ...testEnv, AUTOMATE_ENV_GRANTS: '*' } as Env, db).resolveForStep(
      other.tenant,
      { K: { $secret: 'STRIPE_KEY', backend: 'env' } },
    );
    expect(r.values.K).toBe(STRIPE);
  });

  it('rotates by pointing the reference at a new variable', async () => {
    const resolver = createSecretResolver(testEnv, db);
    const v1 = await resolver.resolveForStep(granted.tenant, { KEY: { $secret: 'STRIPE_KEY', backend: 'env' } });
    const v2 = await resolver.resolveForStep(granted.tenant, { KEY: { $secret: 'STRIPE_KEY_V2', backend: 'env' } });
    expect([v1.values.KEY, v2.values.KEY]).toEqual([STRIPE, STRIPE_V2]);
  });

  it('records last use of env keys for the governance list', async () => {
    await createSecretResolver(testEnv, db).resolveForStep(granted.tenant, {
      KEY: { $secret: 'STRIPE_KEY', backend: 'env' },
    });
    const row = await env.DB.prepare('SELECT last_used_at FROM env_secret_usage WHERE tenant_id = ? AND key = ?')
      .bind(granted.tenant.id, 'STRIPE_KEY')
      .first<{ last_used_at: number }>();
    expect(row!.last_used_at).toBeGreaterThan(Date.now() - 60_000);
  });

  it('needs no master key when a step uses only env secrets', async () => {
    const noMaster = { ...testEnv, AUTOMATE_MASTER_KEY: undefined } as Env;
    const r = await createSecretResolver(noMaster, db).resolveForStep(granted.tenant, {
      KEY: { $secret: 'STRIPE_KEY', backend: 'env' },
    });
    expect(r.values.KEY).toBe(STRIPE);
    const e = await failure(
      createSecretResolver(noMaster, db).resolveForStep(granted.tenant, { KEY: { $secret: 'ANY' } }, { stepId: 'x' }),
    );
    expect(e.code).toBe('NOT_CONFIGURED');
  });
});

describe('stored backend', () => {
  let owner: Session;
  beforeAll(async () => {
    owner = await signup('Resolver Co');
  });

  it("resolves a step's declared names, and a rotation reaches the next step of a run in flight", async () => {
    expect(
      (await call('PUT', '/api/secrets/ERP_API_KEY', { session: owner, body: { value: 'erp-value-v1' } })).status,
    ).toBe(201);
    const resolver = createSecretResolver(env, db);
    const step1 = await resolver.resolveForStep(
      owner.tenant,
      { API_KEY: { $secret: 'ERP_API_KEY' } },
      { stepId: 'create_order' },
    );
    expect(step1.values).toEqual({ API_KEY: 'erp-value-v1' });

    expect(
      (await call('POST', '/api/secrets/ERP_API_KEY/rotate', { session: owner, body: { value: 'erp-value-v2' } }))
        .status,
    ).toBe(200);
    const step2 = await resolver.resolveForStep(
      owner.tenant,
      { API_KEY: { $secret: 'ERP_API_KEY', backend: 'stored' } },
      { stepId: 'notify' },
    );
    expect(step2.values).toEqual({ API_KEY: 'erp-value-v2' });
    expect(step2.redactor.scrubText('erp-value-v2 erp-value-v1')).toBe('******** erp-value-v1');
  });

  it('marks stored secrets used', async () => {
    await call('PUT', '/api/secrets/USED_ONE', { session: owner, body: { value: 'used-value-1' } });
    await createSecretResolver(env, db).resolveForStep(owner.tenant, { U: { $secret: 'USED_ONE' } });
    const list = await call('GET', '/api/secrets', { session: owner });
    expect(list.json.secrets.find((s: any) => s.key === 'USED_ONE').lastUsedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('names step and key when a stored secret does not exist', async () => {
    const e = await failure(
      createSecretResolver(env, db).resolveForStep(owner.tenant, { X: { $secret: 'NOPE_KEY' } }, { stepId: 'fetch' }),
    );
    expect(e.code).toBe('NOT_FOUND');
    expect(e.stepId).toBe('fetch');
    expect(e.key).toBe('NOPE_KEY');
    expect(e.message).toBe(
      'Step "fetch": stored secret "NOPE_KEY" does not exist in this tenant; create it (PUT /api/secrets/NOPE_KEY)',
    );
  });

  it("never resolves another tenant's stored secret", async () => {
    const other = await signup('Resolver Other');
    const e = await failure(
      createSecretResolver(env, db).resolveForStep(other.tenant, { X: { $secret: 'ERP_API_KEY' } }),
    );
    expect(e.code).toBe('NOT_FOUND');
  });
});
