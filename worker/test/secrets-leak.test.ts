/**
 * Leak test: plants a known secret value, drives every route that returns data (and the
 * errors that mention the secret), and asserts the value appears nowhere, raw or encoded:
 * not in a response, not in a log line, not in any D1 table.
 *
 * To cover a new route, add a probe to PROBES (runs: see the note there).
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SCOPES } from '../src/auth/principal';
import { createDb } from '../src/db/client';
import { createSecretResolver } from '../src/secrets/resolver';
import { script, uniquePath } from '../../connectors/testing/stub-client';
import { addMember, call, createToken, signup, waitForRun, type Result, type Session } from './helpers/api';

// Characters that make every encoding differ from the raw value: / + " & < > space, non-ASCII.
const VALUE = `lk_${crypto.randomUUID()}/+"&<ü> ${crypto.randomUUID().slice(0, 8)}`;

const utf8Base64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const FORMS: Record<string, string> = {
  raw: VALUE,
  encodeURIComponent: encodeURIComponent(VALUE),
  form: new URLSearchParams({ v: VALUE }).toString().slice(2),
  base64: utf8Base64(VALUE).replace(/=+$/, ''),
  base64url: utf8Base64(VALUE).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
  'JSON-escaped': JSON.stringify(VALUE).slice(1, -1),
  // A distinctive part, so a truncated echo is caught too.
  'first UUID': VALUE.slice(3, 39),
};

function expectNoLeak(where: string, text: string) {
  for (const [name, form] of Object.entries(FORMS))
    expect(text.includes(form), `${where} contains the secret (${name})`).toBe(false);
}

interface Ctx {
  owner: Session;
  token: string;
  /** A run whose first step got the secret echoed back and whose second step failed with it in the error. */
  runId: string;
}

interface Probe {
  name: string;
  run: (ctx: Ctx) => Promise<Result>;
  /** Expected status, to be sure the probe reached what it meant to. */
  status: number;
}

const WORKFLOW = {
  key: 'leaky_flow',
  name: 'Leaky flow',
  trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: 'LEAK_HOOK' } } },
  steps: [
    {
      id: 'call_api',
      type: 'action',
      connector: 'http',
      action: 'request',
      params: { url: 'https://api.example.com/orders', headers: { authorization: 'Bearer {{ secrets.API_KEY }}' } },
      secrets: { API_KEY: { $secret: 'LEAK_KEY' } },
    },
  ],
};

/**
 * A run that handles the secret carelessly: the API of step `echo` returns the request
 * (secret included) in its response, and the API of step `refuse` answers 401 with the
 * key echoed raw and URL-encoded in the error body, which the connector puts in its
 * error message. Everything the Explorer keeps of it must be scrubbed.
 */
function echoFlow(okUrl: string, failUrl: string) {
  const secrets = { API_KEY: { $secret: 'LEAK_KEY' } };
  return {
    key: 'echo_flow',
    name: 'Echo flow',
    vars: { ok_url: okUrl, fail_url: failUrl },
    trigger: { type: 'api' },
    steps: [
      {
        id: 'echo',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: {
          method: 'POST',
          url: '{{ vars.ok_url }}',
          json: { token: '{{ secrets.API_KEY }}', note: 'key={{ secrets.API_KEY }}' },
        },
        secrets,
        next: 'refuse',
      },
      {
        id: 'refuse',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: { method: 'POST', url: '{{ vars.fail_url }}', json: { token: '{{ secrets.API_KEY }}' } },
        secrets,
      },
    ],
  };
}

/** Every route that returns data, and the errors that name the secret. A new route gets a line here. */
const PROBES: Probe[] = [
  {
    name: 'PUT /api/secrets/:key (replace)',
    status: 200,
    run: ({ owner }) => call('PUT', '/api/secrets/LEAK_KEY', { session: owner, body: { value: VALUE } }),
  },
  {
    name: 'POST /api/secrets/:key/rotate',
    status: 200,
    run: ({ owner }) => call('POST', '/api/secrets/LEAK_KEY/rotate', { session: owner, body: { value: VALUE } }),
  },
  { name: 'GET /api/secrets', status: 200, run: ({ owner }) => call('GET', '/api/secrets', { session: owner }) },
  { name: 'GET /api/secrets (token)', status: 200, run: ({ token }) => call('GET', '/api/secrets', { token }) },
  {
    name: 'DELETE /api/secrets/:key in use (409)',
    status: 409,
    run: ({ owner }) => call('DELETE', '/api/secrets/LEAK_KEY', { session: owner }),
  },
  {
    name: 'DELETE /api/secrets/:key',
    status: 200,
    run: ({ owner }) => call('DELETE', '/api/secrets/SPARE_KEY', { session: owner }),
  },
  {
    name: 'rotate a missing key (404)',
    status: 404,
    run: ({ owner }) => call('POST', '/api/secrets/NOT_THERE/rotate', { session: owner, body: { value: VALUE } }),
  },
  {
    name: 'PUT with a bad key (400)',
    status: 400,
    run: ({ owner }) => call('PUT', '/api/secrets/bad-key', { session: owner, body: { value: VALUE } }),
  },
  {
    name: 'PUT with an extra field (400)',
    status: 400,
    run: ({ owner }) => call('PUT', '/api/secrets/LEAK_KEY', { session: owner, body: { value: VALUE, note: VALUE } }),
  },
  {
    name: 'PUT with a value too large (400)',
    status: 400,
    run: ({ owner }) => call('PUT', '/api/secrets/LEAK_KEY', { session: owner, body: { value: VALUE.repeat(400) } }),
  },
  {
    name: 'PUT with malformed JSON (400)',
    status: 400,
    run: ({ owner }) => call('PUT', '/api/secrets/LEAK_KEY', { session: owner, rawBody: `{"value": "${VALUE}"` }),
  },
  {
    name: 'PUT by an editor (403)',
    status: 403,
    run: async ({ owner }) =>
      call('PUT', '/api/secrets/LEAK_KEY', { session: await addMember(owner, 'editor'), body: { value: VALUE } }),
  },
  { name: 'GET /api/workflows', status: 200, run: ({ owner }) => call('GET', '/api/workflows', { session: owner }) },
  {
    name: 'GET /api/workflows/:key',
    status: 200,
    run: ({ owner }) => call('GET', '/api/workflows/leaky_flow', { session: owner }),
  },
  {
    name: 'GET /api/workflows/:key/export',
    status: 200,
    run: ({ owner }) => call('GET', '/api/workflows/leaky_flow/export', { session: owner }),
  },
  {
    name: 'GET /api/workflows/:key/export?version=1',
    status: 200,
    run: ({ owner }) => call('GET', '/api/workflows/leaky_flow/export?version=1', { session: owner }),
  },
  {
    name: 'GET /api/workflows/:key/versions',
    status: 200,
    run: ({ owner }) => call('GET', '/api/workflows/leaky_flow/versions', { session: owner }),
  },
  {
    name: 'POST /api/workflows/:key/publish',
    status: 200,
    run: ({ owner }) => call('POST', '/api/workflows/leaky_flow/publish', { session: owner }),
  },
  { name: 'GET /api/audit', status: 200, run: ({ owner }) => call('GET', '/api/audit?limit=500', { session: owner }) },
  {
    name: 'GET /api/audit?action=secret.rotate',
    status: 200,
    run: ({ owner }) => call('GET', '/api/audit?action=secret.rotate', { session: owner }),
  },
  { name: 'GET /api/auth/me', status: 200, run: ({ owner }) => call('GET', '/api/auth/me', { session: owner }) },
  { name: 'GET /api/tokens', status: 200, run: ({ owner }) => call('GET', '/api/tokens', { session: owner }) },
  { name: 'GET /api/members', status: 200, run: ({ owner }) => call('GET', '/api/members', { session: owner }) },
  { name: 'GET /api/openapi.json', status: 200, run: () => call('GET', '/api/openapi.json') },
  { name: 'GET /api/runs', status: 200, run: ({ token }) => call('GET', '/api/runs', { token }) },
  {
    name: 'GET /api/runs?status=failed&workflow=echo_flow',
    status: 200,
    run: ({ owner }) => call('GET', '/api/runs?status=failed&workflow=echo_flow', { session: owner }),
  },
  {
    name: 'GET /api/runs/:id',
    status: 200,
    run: ({ owner, runId }) => call('GET', `/api/runs/${runId}`, { session: owner }),
  },
  {
    name: 'POST /api/runs/:id/retry, and the retried run',
    status: 202,
    run: async ({ owner, token, runId }) => {
      const res = await call('POST', `/api/runs/${runId}/retry`, { session: owner });
      const retried = await waitForRun(res.json.runId, { token });
      expect(retried.status).toBe('failed');
      return { ...res, text: `${res.text}\n${JSON.stringify(retried)}` };
    },
  },
  {
    name: 'GET /api/audit after runs',
    status: 200,
    run: ({ owner }) => call('GET', '/api/audit?limit=500', { session: owner }),
  },
];

describe('a planted secret value', () => {
  const ctx = {} as Ctx;
  const logged: string[] = [];

  beforeAll(async () => {
    // Everything the Worker logs during the probes is checked too.
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(
          args
            .map((a) =>
              typeof a === 'string' ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a),
            )
            .join(' '),
        );
      });
    }
    ctx.owner = await signup('Leak Co');
    ctx.token = await createToken(ctx.owner, [...SCOPES]);
    for (const key of ['LEAK_KEY', 'LEAK_HOOK', 'SPARE_KEY']) {
      const res = await call('PUT', `/api/secrets/${key}`, { session: ctx.owner, body: { value: VALUE } });
      expectNoLeak(`PUT /api/secrets/${key} (create)`, res.text);
      expect(res.status).toBe(201);
    }
    const imported = await call('POST', '/api/workflows/import?publish=true', { session: ctx.owner, body: WORKFLOW });
    expect(imported.status).toBe(201);

    const okPath = uniquePath('/http');
    const failPath = uniquePath('/http');
    await script(
      failPath,
      [
        {
          status: 401,
          body: `{"error":"invalid key","key":${JSON.stringify(VALUE)},"u":"${encodeURIComponent(VALUE)}"}`,
        },
      ],
      'repeat-last',
    );
    const echo = await call('POST', '/api/workflows/import?publish=true', {
      token: ctx.token,
      body: echoFlow(`${env.STUB_URL}${okPath}`, `${env.STUB_URL}${failPath}`),
    });
    expect(echo.status, echo.text).toBe(201);
    const started = await call('POST', '/api/workflows/echo_flow/runs', {
      token: ctx.token,
      body: { payload: { hello: 'world' } },
    });
    expect(started.status, started.text).toBe(202);
    ctx.runId = started.json.runId;
    const run = await waitForRun(ctx.runId, { token: ctx.token });
    // The run really did meet the secret: echoed in step 1's response, refused in step 2.
    expect(run.status).toBe('failed');
    expect(run.steps.map((st: any) => [st.id, st.status])).toEqual([
      ['echo', 'succeeded'],
      ['refuse', 'failed'],
    ]);
    expect(JSON.stringify(run.steps[0].output)).toContain('********');
    expect(run.steps[1].error.message).toMatch(/answered 401.*invalid key.*\*{8}/);
  });

  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('would be noticed in any of the forms checked', () => {
    for (const form of Object.values(FORMS)) expect(() => expectNoLeak('self-test', `{"x": "..${form}.."}`)).toThrow();
  });

  it.each(PROBES)('is not in the answer to $name', async (probe) => {
    const res = await probe.run(ctx);
    expect(res.status, res.text.slice(0, 300)).toBe(probe.status);
    expectNoLeak(probe.name, res.text);
    expectNoLeak(`${probe.name} headers`, JSON.stringify([...res.headers]));
  });

  it('is caught in a connector error that echoes it, before anything keeps it', async () => {
    const { values, redactor } = await createSecretResolver(env, createDb(env.DB)).resolveForStep(
      ctx.owner.tenant,
      { API_KEY: { $secret: 'LEAK_KEY' } },
      { stepId: 'call_api' },
    );
    expect(values.API_KEY).toBe(VALUE);
    // What a careless connector does with its key when the API says no.
    const err = new Error(
      `401 Unauthorized for GET https://api.example.com/orders?api_key=${encodeURIComponent(values.API_KEY)}: ${JSON.stringify({ error: 'invalid key', key: values.API_KEY })}`,
    );
    const request = {
      headers: { authorization: `Basic ${utf8Base64(`user:${values.API_KEY}`)}`, 'x-api-key': values.API_KEY },
      url: `https://x.example/?k=${encodeURIComponent(values.API_KEY)}`,
    };
    const kept = redactor.scrub({
      error: { message: err.message, stack: err.stack },
      request,
      output: { echoed: values.API_KEY },
    });
    expectNoLeak('scrubbed step record', JSON.stringify(kept));
  });

  it('is in no log line', () => {
    expectNoLeak('logs', logged.join('\n'));
  });

  it('is in no D1 table: stored values are ciphertext only', async () => {
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
    ).all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toContain('secrets');
    for (const { name } of tables.results) {
      const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      expectNoLeak(`table ${name}`, JSON.stringify(rows.results));
    }
  });
});
