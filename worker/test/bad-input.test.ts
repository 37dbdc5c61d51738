/**
 * Bad input gets a 4xx JSON error naming the field, and leaves nothing behind:
 * every case counts the tenant's rows before and after.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import orderFlow from '../../workflows/order_flow.json';
import { call, createToken, putSecrets, signup, type Result, type Session } from './helpers/api';

let owner: Session;
let token: string;

const TABLES = ['workflows', 'workflow_versions', 'audit_log', 'api_tokens', 'users', 'tenants'];

async function counts() {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = (await env.DB.prepare(`SELECT count(*) AS n FROM ${t}`).first<{ n: number }>())!.n;
  return out;
}

const file = (patch: (wf: any) => void) => {
  const wf = JSON.parse(JSON.stringify(orderFlow));
  patch(wf);
  return wf;
};

beforeAll(async () => {
  owner = await signup('Bad Input Co');
  await putSecrets(owner);
  token = await createToken(owner, ['workflows:read', 'workflows:write']);
  await call('POST', '/api/workflows/import', { token, body: orderFlow });
});

interface Case {
  name: string;
  send: () => Promise<Result>;
  status: number;
  code: string;
  /** Field path the error must name, in `details` and in the message. */
  field?: string;
}

const cases: Case[] = [
  {
    name: 'malformed JSON',
    send: () => call('POST', '/api/workflows/import', { token, rawBody: '{"key": "x", ' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'not JSON at all (content type)',
    send: () =>
      call('POST', '/api/workflows/import', { token, rawBody: 'key=x', headers: { 'content-type': 'text/plain' } }),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a 2 MiB body',
    send: () =>
      call('POST', '/api/workflows/import', {
        token,
        body: file((wf) => (wf.description = 'x'.repeat(2 * 1024 * 1024))),
      }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'wrong type',
    send: () => call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.name = 42)) }),
    status: 400,
    code: 'invalid_request',
    field: 'name',
  },
  {
    name: 'missing field',
    send: () => call('POST', '/api/workflows/import', { token, body: file((wf) => delete wf.steps) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps',
  },
  {
    name: 'unknown field (typo)',
    send: () => call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[1].paramz = {})) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[1].paramz',
  },
  {
    name: 'unknown step type',
    send: () => call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[0].type = 'loop')) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[0].type',
  },
  {
    name: 'dangling next',
    send: () => call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[0].then = 'nowhere')) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[0].then',
  },
  {
    name: 'a cycle',
    send: () =>
      call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[2].next = 'is_high_value')) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[2].next',
  },
  {
    name: 'duplicate step id',
    send: () =>
      call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[2].id = 'create_erp_order')) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[2].id',
  },
  {
    name: 'undeclared secret in a template',
    send: () => call('POST', '/api/workflows/import', { token, body: file((wf) => delete wf.steps[2].secrets) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[2].params.headers.Authorization',
  },
  {
    name: 'secret literal instead of a reference',
    send: () =>
      call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[1].secrets.API_KEY = 'plain')) }),
    status: 400,
    code: 'invalid_request',
    field: 'steps[1].secrets.API_KEY',
  },
  {
    name: 'bad cron',
    send: () =>
      call('POST', '/api/workflows/import', {
        token,
        body: file((wf) => (wf.trigger = { type: 'schedule', cron: 'every minute' })),
      }),
    status: 400,
    code: 'invalid_request',
    field: 'trigger.cron',
  },
  {
    name: 'hard-coded Stripe key',
    send: () =>
      call('POST', '/api/workflows/import', {
        token,
        body: file((wf) => (wf.steps[2].params.headers.Authorization = 'Bearer sk_live_51HxTqPLkQz8vYw3MnBc')),
      }),
    status: 400,
    code: 'hardcoded_credential',
    field: 'steps[2].params.headers.Authorization',
  },
  {
    name: 'hard-coded Slack token in vars',
    send: () =>
      call('POST', '/api/workflows/import', {
        token,
        body: file((wf) => (wf.vars.slack = 'xoxb-1234567890-abcdefghij')),
      }),
    status: 400,
    code: 'hardcoded_credential',
    field: 'vars.slack',
  },
  {
    name: 'random string under an api_key field',
    send: () =>
      call('POST', '/api/workflows/import', {
        token,
        body: file((wf) => (wf.steps[1].params.api_key = 'f9X2kLq8Zr4Tn7Wb1Vc6')),
      }),
    status: 400,
    code: 'hardcoded_credential',
    field: 'steps[1].params.api_key',
  },
  {
    name: 'password literal',
    send: () =>
      call('POST', '/api/workflows/import', { token, body: file((wf) => (wf.steps[2].params.password = 'hunter22')) }),
    status: 400,
    code: 'hardcoded_credential',
    field: 'steps[2].params.password',
  },
  {
    name: 'credentials inside a URL',
    send: () =>
      call('POST', '/api/workflows/import', {
        token,
        body: file((wf) => (wf.vars.sales_hook_url = 'https://bot:s3cr3tpass@hooks.example.com/x')),
      }),
    status: 400,
    code: 'hardcoded_credential',
    field: 'vars.sales_hook_url',
  },
  {
    name: 'save with a mismatched key',
    send: () => call('PUT', '/api/workflows/order_flow', { token, body: file((wf) => (wf.key = 'other')) }),
    status: 400,
    code: 'invalid_request',
    field: 'key',
  },
  {
    name: 'publishing an unknown connector',
    send: () =>
      call('POST', '/api/workflows/import?publish=true', {
        token,
        body: file((wf) => (wf.steps[1].connector = 'sap_r3')),
      }),
    status: 400,
    code: 'invalid_workflow',
    field: 'steps[1].connector',
  },
  {
    name: 'publishing an unknown action',
    send: () =>
      call('POST', '/api/workflows/import?publish=true', {
        token,
        body: file((wf) => (wf.steps[1].action = 'delete_everything')),
      }),
    status: 400,
    code: 'invalid_workflow',
    field: 'steps[1].action',
  },
  {
    name: 'invalid publish flag',
    send: () => call('POST', '/api/workflows/import?publish=yes', { token, body: orderFlow }),
    status: 400,
    code: 'invalid_request',
    field: 'query.publish',
  },
  {
    name: 'non-numeric version',
    send: () => call('POST', '/api/workflows/order_flow/versions/abc/activate', { token }),
    status: 400,
    code: 'invalid_request',
    field: 'param.n',
  },
  {
    name: 'version that does not exist',
    send: () => call('POST', '/api/workflows/order_flow/versions/99/activate', { token }),
    status: 404,
    code: 'version_not_found',
  },
  {
    name: 'workflow that does not exist',
    send: () => call('GET', '/api/workflows/nope', { token }),
    status: 404,
    code: 'workflow_not_found',
  },
  {
    name: 'sign-up with a bad email',
    send: () =>
      call('POST', '/api/auth/signup', {
        body: { tenant: 'X', email: 'not-an-email', password: 'correct horse battery' },
      }),
    status: 400,
    code: 'invalid_request',
    field: 'email',
  },
  {
    name: 'sign-up with a short password',
    send: () => call('POST', '/api/auth/signup', { body: { tenant: 'X', email: 'x@example.com', password: 'short' } }),
    status: 400,
    code: 'invalid_request',
    field: 'password',
  },
  {
    name: 'sign-up with an extra field',
    send: () =>
      call('POST', '/api/auth/signup', {
        body: { tenant: 'X', email: 'x@example.com', password: 'correct horse battery', role: 'owner' },
      }),
    status: 400,
    code: 'invalid_request',
    field: 'role',
  },
  {
    name: 'sign-up with an email already taken',
    send: () =>
      call('POST', '/api/auth/signup', {
        body: { tenant: 'X', email: owner.email, password: 'correct horse battery' },
      }),
    status: 409,
    code: 'email_taken',
  },
  {
    name: 'token with an unknown scope',
    send: () => call('POST', '/api/tokens', { session: owner, body: { name: 'x', scopes: ['root'] } }),
    status: 400,
    code: 'invalid_request',
    field: 'scopes[0]',
  },
  {
    name: 'token without a name',
    send: () => call('POST', '/api/tokens', { session: owner, body: {} }),
    status: 400,
    code: 'invalid_request',
    field: 'name',
  },
  {
    name: 'no such route',
    send: () => call('GET', '/api/nothing-here', { token }),
    status: 404,
    code: 'route_not_found',
  },
];

describe.each(cases)('$name', (c) => {
  it(`answers ${c.status} ${c.code}${c.field ? ` naming ${c.field}` : ''} and changes nothing`, async () => {
    const before = await counts();
    const res = await c.send();
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.json.error.code).toBe(c.code);
    expect(res.json.error.requestId).toMatch(/^req_/);
    expect(res.json.error.message.length).toBeGreaterThan(5);
    if (c.field) {
      expect(res.json.error.details.map((d: any) => d.path)).toContain(c.field);
      expect(res.json.error.message).toContain(c.field);
    }
    expect(await counts()).toEqual(before);
  });
});

describe('credential refusal', () => {
  it('never echoes the credential it refuses', async () => {
    const res = await call('POST', '/api/workflows/import', {
      token,
      body: file((wf) => (wf.vars.key = 'sk_live_51HxTqPLkQz8vYw3MnBcSECRET')),
    });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('sk_live_51HxTqPLkQz8vYw3MnBcSECRET');
  });

  it('accepts references and templates where credentials go', async () => {
    const res = await call('POST', '/api/workflows/import', { token, body: orderFlow });
    expect(res.status).toBe(200);
  });

  it('refuses at publish too, when a credential reached a draft some other way', async () => {
    // A draft written before the scanner knew a format: publish re-checks the stored file.
    await env.DB.prepare(
      "UPDATE workflows SET draft = json_set(draft, '$.vars.leak', 'ghp_0123456789abcdefghijABCDEFGHIJ') WHERE tenant_id = ? AND key = 'order_flow'",
    )
      .bind(owner.tenant.id)
      .run();
    const before = await counts();
    const res = await call('POST', '/api/workflows/order_flow/publish', { token });
    expect(res.status).toBe(400);
    expect(res.json.error.details.map((d: any) => d.path)).toContain('vars.leak');
    expect(await counts()).toEqual(before);
  });
});
