/**
 * The closed list of error codes (worker/src/error-codes.ts) is what clients branch on, so
 * each code must be (1) produced by something real, (2) documented in docs/errors.md with
 * the status it is answered with, and (3) the enum the OpenAPI document publishes.
 * One case per code below; each drives the Worker the way a client would (through its
 * fetch handler), except `internal_error`, which no request may reach: the error handler
 * is called with a thrown bug instead.
 */
import { createExecutionContext, env } from 'cloudflare:test';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import errorsDoc from '../../docs/errors.md?raw';
import orderFlow from '../../workflows/order_flow.json';
import { createApp } from '../src/app';
import { SCOPES } from '../src/auth/principal';
import type { AppEnv } from '../src/context';
import type { Env } from '../src/env';
import { ERROR_CODES, type ErrorCode } from '../src/error-codes';
import { HTTP_STATUS, onError } from '../src/http/error-handler';
import { requestContext } from '../src/http/request-context';
import { UNREACHABLE_RUNS } from './helpers/unreachable-runs';
import {
  addMember,
  BASE,
  call,
  createToken,
  PASSWORD,
  putSecrets,
  type Result,
  type Session,
  signup,
  waitForRun,
} from './helpers/api';
import { configureSso, memberWithEmail, uniqueDomain } from './helpers/sso';
import { plantLegacyRun } from './helpers/legacy-runs';
import { importLegacyRuns } from '../src/run/legacy-import';
import { enrolMfa, nextCode, wrongCode } from './helpers/mfa';

/** A team whose owner has MFA and requires it of everyone. */
async function mfaTeam(name: string) {
  const mfaOwner = await signup(name);
  const enrolled = await enrolMfa(mfaOwner);
  const res = await call('PATCH', '/api/settings', { session: mfaOwner, body: { mfaRequired: true } });
  expect(res.status).toBe(200);
  return { mfaOwner, enrolled };
}

let owner: Session;
let token: string;
let hookOfApiFlow: string;
let runOfApiFlow: string;

const apiFlow = (key: string) => ({
  key,
  name: `API flow ${key}`,
  trigger: { type: 'api' },
  steps: [{ id: 'shape', type: 'transform', output: { ok: true } }],
});

/** Calls a fresh app with a changed environment (the deployment's configuration). */
async function callWith(changed: Partial<Env>, method: string, path: string, init: RequestInit = {}) {
  const res = await createApp().request(
    `${BASE}${path}`,
    { method, ...init },
    { ...env, ...changed } as Env,
    createExecutionContext(),
  );
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text, headers: res.headers } as Result;
}

const NO_MASTER_KEY = { AUTOMATE_MASTER_KEY: undefined } as Partial<Env>;

beforeAll(async () => {
  owner = await signup('Error Codes Co');
  await putSecrets(owner);
  token = await createToken(owner, [...SCOPES]);
  expect((await call('POST', '/api/workflows/import?publish=true', { token, body: orderFlow })).status).toBe(201);
  expect((await call('POST', '/api/workflows/import?publish=true', { token, body: apiFlow('api_flow') })).status).toBe(
    201,
  );
  expect((await call('POST', '/api/workflows/import', { token, body: apiFlow('draft_only') })).status).toBe(201);
  expect(
    (await call('POST', '/api/workflows/import?publish=true', { token, body: apiFlow('broken_flow') })).status,
  ).toBe(201);
  // A version stored before a rule its run object now enforces (here: no longer a workflow at all).
  await env.DB.prepare(
    `UPDATE workflow_versions SET definition = '{"not": "a workflow"}'
     WHERE workflow_id = (SELECT id FROM workflows WHERE key = 'broken_flow')`,
  ).run();
  hookOfApiFlow = (await call('GET', '/api/workflows/api_flow', { token })).json.hookId;
  runOfApiFlow = (await call('POST', '/api/workflows/api_flow/runs', { token, body: { payload: {} } })).json.runId;
  // Stands in for a concurrent writer that creates the same key between the read and the
  // insert: the unique index's verdict, every time, for this one key.
  await env.DB.prepare(
    `CREATE TRIGGER raced_workflow BEFORE INSERT ON workflows WHEN NEW.key = 'raced'
     BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: workflows.tenant_id, workflows.key'); END`,
  ).run();
});

const withField = (patch: (wf: any) => void) => {
  const wf = structuredClone(orderFlow) as any;
  patch(wf);
  return wf;
};

/** One way to get each code, as a client would meet it. */
const produce: Record<ErrorCode, () => Promise<Result>> = {
  invalid_request: () => call('POST', '/api/workflows/import', { token, body: withField((wf) => (wf.name = 42)) }),
  unsupported_media_type: () =>
    call('POST', '/api/workflows/import', { token, rawBody: 'key=x', headers: { 'content-type': 'text/plain' } }),
  payload_too_large: () =>
    call('POST', '/api/workflows/import', { token, body: withField((wf) => (wf.description = 'x'.repeat(1 << 21))) }),
  rate_limited: async () => {
    const victim = await signup('Rate Limited Co');
    const from = { 'cf-connecting-ip': '192.0.2.44' };
    for (let i = 0; i < 10; i++)
      await call('POST', '/api/auth/login', { body: { email: victim.email, password: `wrong ${i}` }, headers: from });
    return call('POST', '/api/auth/login', { body: { email: victim.email, password: PASSWORD }, headers: from });
  },
  route_not_found: () => call('GET', '/api/nothing-here', { token }),
  unauthorized: () => call('GET', '/api/workflows'),
  invalid_credentials: () =>
    call('POST', '/api/auth/login', {
      body: { email: owner.email, password: 'not the password' },
      headers: { 'cf-connecting-ip': '192.0.2.45' },
    }),
  forbidden: async () => call('GET', '/api/audit', { token: await createToken(owner, ['workflows:read']) }),
  mfa_enrollment_required: async () => {
    const { mfaOwner } = await mfaTeam('MFA Required Co');
    const member = await addMember(mfaOwner, 'editor');
    return call('GET', '/api/workflows', { session: member });
  },
  invalid_mfa_code: async () => {
    const started = await call('POST', '/api/auth/mfa/enroll', { session: owner });
    const code = await wrongCode(started.json.secret);
    return call('POST', '/api/auth/mfa/enroll/confirm', { session: owner, body: { code } });
  },
  mfa_challenge_invalid: () =>
    call('POST', '/api/auth/mfa/verify', { body: { challenge: 'not-a-challenge', code: '123456' } }),
  origin_not_allowed: () =>
    call('POST', '/api/workflows/api_flow/publish', { session: owner, headers: { origin: 'https://evil.example' } }),
  email_not_verified: async () => {
    const unverified = await signup('Unverified Co', { verify: false });
    return call('POST', '/api/tokens', { session: unverified, body: { name: 'ci' } });
  },
  invalid_link: () => call('POST', '/api/auth/verify-email', { body: { token: 'x'.repeat(43) } }),
  invitation_not_found: () => call('DELETE', '/api/invitations/inv_nope', { session: owner }),
  workflow_not_found: () => call('GET', '/api/workflows/nope', { token }),
  version_not_found: () => call('POST', '/api/workflows/order_flow/versions/99/activate', { token }),
  run_not_found: () => call('GET', '/api/runs/run_nope', { token }),
  secret_not_found: () => call('POST', '/api/secrets/NOPE/rotate', { token, body: { value: 'v' } }),
  token_not_found: () => call('DELETE', '/api/tokens/tok_nope', { session: owner }),
  webhook_not_found: () => call('POST', '/hooks/hk_nothing_like_this_exists_000', { body: {} }),
  member_not_found: () => call('DELETE', '/api/members/usr_nope', { session: owner }),
  invalid_workflow: () =>
    call('POST', '/api/workflows/import?publish=true', {
      token,
      body: withField((wf) => (wf.steps[1].connector = 'sap_r3')),
    }),
  hardcoded_credential: () =>
    call('POST', '/api/workflows/import', {
      token,
      body: withField((wf) => (wf.steps[2].params.password = 'hunter22')),
    }),
  invalid_rule: () => call('POST', '/api/rules/test', { token, body: { rule: { no_such_op: [1] }, data: {} } }),
  workflow_not_published: () => call('POST', '/api/workflows/draft_only/runs', { token, body: {} }),
  trigger_mismatch: () => call('POST', `/hooks/${hookOfApiFlow}`, { body: {} }),
  run_not_retryable: () => call('POST', `/api/runs/${runOfApiFlow}/retry`, { token }),
  legacy_run_not_retryable: async () => {
    // A failed run recorded in D1 before the run index, whose object holds no state, once imported.
    const runId = await plantLegacyRun(owner.tenant.id, {
      workflow: 'api_flow',
      status: 'failed',
      createdAt: Date.now(),
    });
    expect((await importLegacyRuns(env, Date.now())).added).toBeGreaterThanOrEqual(1);
    return call('POST', `/api/runs/${runId}/retry`, { token });
  },
  version_not_runnable: () => call('POST', '/api/workflows/broken_flow/runs', { token, body: {} }),
  workflow_runs_in_flight: async () => {
    // A run waiting in a delay is in flight for a minute: the delete must refuse.
    const slow = { ...apiFlow('slow_flow'), steps: [{ id: 'wait', type: 'delay', delayMs: 60_000, next: null }] };
    expect((await call('POST', '/api/workflows/import?publish=true', { token, body: slow })).status).toBe(201);
    const started = await call('POST', '/api/workflows/slow_flow/runs', { token, body: {} });
    expect(started.status).toBe(202);
    // The run's object writes its Explorer row (which the delete checks) just after the 202.
    await waitForRun(started.json.runId, { token }, () => true);
    return call('DELETE', '/api/workflows/slow_flow', { token });
  },
  email_taken: () =>
    call('POST', '/api/auth/signup', { body: { tenant: 'Again', email: owner.email, password: PASSWORD } }),
  mfa_already_enabled: async () => {
    const someone = await signup('MFA Twice Co');
    await enrolMfa(someone);
    return call('POST', '/api/auth/mfa/enroll', { session: someone });
  },
  mfa_not_enabled: async () => {
    const someone = await signup('No MFA Co');
    return call('POST', '/api/auth/mfa/recovery-codes', { session: someone, body: { code: '123456' } });
  },
  mfa_required_by_tenant: async () => {
    const { mfaOwner, enrolled } = await mfaTeam('MFA Kept Co');
    return call('POST', '/api/auth/mfa/disable', {
      session: mfaOwner,
      body: { code: await nextCode(enrolled.secret) },
    });
  },
  last_owner: () => call('PATCH', `/api/members/${owner.user.id}`, { session: owner, body: { role: 'admin' } }),
  secret_in_use: () => call('DELETE', '/api/secrets/ERP_API_KEY', { token }),
  concurrent_modification: () => call('POST', '/api/workflows/import', { token, body: apiFlow('raced') }),
  invalid_signature: async () => {
    const hookId = (await call('GET', '/api/workflows/order_flow', { token })).json.hookId;
    return call('POST', `/hooks/${hookId}`, { body: { id: 'ord_1' } });
  },
  signing_secret_unavailable: async () => {
    const hookId = (await call('GET', '/api/workflows/order_flow', { token })).json.hookId;
    return callWith(NO_MASTER_KEY, 'POST', `/hooks/${hookId}`, {
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
  },
  run_start_unavailable: () =>
    callWith(UNREACHABLE_RUNS, 'POST', '/api/workflows/api_flow/runs', {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payload: {} }),
    }),
  secrets_not_configured: () =>
    callWith(NO_MASTER_KEY, 'PUT', '/api/secrets/ANY_KEY', {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'some-value' }),
    }),
  sso_required: async () => {
    const strict = await signup('SSO Required Co');
    const domain = uniqueDomain('required');
    expect((await configureSso(strict, { domains: [domain], requireSso: true })).status).toBe(200);
    const email = `member@${domain}`;
    await memberWithEmail(strict, email, 'viewer');
    return call('POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  },
  sso_state_invalid: () => call('GET', '/api/auth/sso/callback?state=abc&code=def'),
  sso_not_configured: () => call('GET', '/api/auth/sso/start?email=someone%40nobody-uses-sso.test'),
  sso_domain_taken: async () => {
    const domain = uniqueDomain('taken');
    expect((await configureSso(await signup('SSO First Co'), { domains: [domain] })).status).toBe(200);
    return configureSso(await signup('SSO Second Co'), { domains: [domain] });
  },
  sso_discovery_failed: () =>
    call('PUT', '/api/sso', {
      session: owner,
      body: {
        issuer: `${env.STUB_URL}/not-an-issuer`,
        clientId: 'x',
        clientSecret: { $secret: 'ERP_API_KEY' },
        domains: [uniqueDomain('nodiscovery')],
        defaultRole: 'viewer',
        enabled: true,
      },
    }),
  internal_error: async () => {
    const app = new Hono<AppEnv>();
    app.use(requestContext);
    app.onError(onError);
    app.get('/boom', () => {
      throw new TypeError('a bug with internal detail');
    });
    const res = await app.request('/boom', {}, env, createExecutionContext());
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text), text, headers: res.headers };
  },
};

describe('every error code', () => {
  it.each([...ERROR_CODES])(
    '%s is produced with its status and the error shape',
    async (code) => {
      const res = await produce[code]();
      expect(res.json?.error?.code, res.text).toBe(code);
      expect(res.status).toBe(HTTP_STATUS[code]);
      expect(res.json.error.requestId).toMatch(/^req_/);
      expect(res.json.error.message.length).toBeGreaterThan(5);
      if (code === 'rate_limited' || code === 'signing_secret_unavailable' || code === 'run_start_unavailable')
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      if (code === 'internal_error') expect(res.text).not.toContain('internal detail');
    },
    30_000,
  );

  it('has a case for exactly the codes in the list', () => {
    expect(Object.keys(produce).sort()).toEqual([...ERROR_CODES].sort());
  });
});

describe('docs/errors.md', () => {
  // Rows of the codes table: | `code` | status | meaning | what to do |
  const rows = [...errorsDoc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (.+?) \| (.+?) \|$/gm)].map((m) => ({
    code: m[1],
    status: Number(m[2]),
    meaning: m[3],
    todo: m[4],
  }));

  it('documents every code once, and nothing else', () => {
    expect(rows.map((r) => r.code).sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each(rows)('gives $code the status it is answered with, a meaning and what to do', (row) => {
    expect(row.status).toBe(HTTP_STATUS[row.code as ErrorCode]);
    expect(row.meaning.length).toBeGreaterThan(20);
    expect(row.todo.length).toBeGreaterThan(10);
  });
});

describe('the OpenAPI document', () => {
  it('publishes the list as the enum of Error.error.code', async () => {
    const doc = (await call('GET', '/api/openapi.json')).json;
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual([...ERROR_CODES]);
  });
});
