/**
 * Setting up a tenant through the public API (as worker/test/helpers and e2e/helpers do)
 * and reading runs back from the Execution Explorer's routes.
 */
import { randomBytes } from 'node:crypto';

export const WORKFLOW_KEY = 'bench_flow';
export const SECRET_KEY = 'BENCH_HOOK_SECRET';
export const PATH_A = '/http/bench-a';
export const PATH_B = '/http/bench-b';
const ALL_SCOPES = ['workflows:read', 'workflows:write', 'runs:trigger', 'runs:read', 'secrets:write', 'audit:read'];
const CALL_TIMEOUT_MS = 30_000;

async function call(baseUrl, method, route, { body, token, cookie, expect } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) {
    headers.cookie = cookie;
    headers.origin = baseUrl; // cookie-authenticated writes must come from our own origin
  }
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (expect && !expect.includes(res.status))
    throw new Error(`${method} ${route}: ${res.status} ${text.slice(0, 500)}`);
  return { status: res.status, json, text, headers: res.headers };
}

/** The benchmark's workflow: a condition, then two http actions in sequence against the stub. */
export function benchWorkflow(stubUrl) {
  return {
    key: WORKFLOW_KEY,
    name: 'Benchmark: condition + two HTTP calls',
    description: 'npm run bench: signed webhook, a rule, two POSTs to a local stub.',
    trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: SECRET_KEY } } },
    steps: [
      {
        id: 'is_big',
        type: 'condition',
        rule: { '>=': [{ var: 'trigger.body.total' }, 100] },
        then: 'call_a',
        else: null,
      },
      {
        id: 'call_a',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: {
          method: 'POST',
          url: `${stubUrl}${PATH_A}`,
          json: { order: '{{ trigger.body.id }}', total: '{{ trigger.body.total }}', run: '{{ run.id }}' },
        },
        next: 'call_b',
      },
      {
        id: 'call_b',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: {
          method: 'POST',
          url: `${stubUrl}${PATH_B}`,
          json: {
            order: '{{ trigger.body.id }}',
            previousStatus: '{{ steps.call_a.output.status }}',
            run: '{{ run.id }}',
          },
        },
        next: null,
      },
    ],
  };
}

/** Tenant, owner session, full-scope token, signing secret, published workflow. */
export async function setUpTenant(baseUrl, stubUrl) {
  const suffix = randomBytes(4).toString('hex');
  const signup = await call(baseUrl, 'POST', '/api/auth/signup', {
    body: { tenant: `Bench ${suffix}`, email: `bench-${suffix}@example.com`, password: 'correct horse battery staple' },
    expect: [201],
  });
  const cookie = signup.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (!cookie) throw new Error('signup set no session cookie');
  const token = (
    await call(baseUrl, 'POST', '/api/tokens', { cookie, body: { name: 'bench', scopes: ALL_SCOPES }, expect: [201] })
  ).json.token;
  const hookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  await call(baseUrl, 'PUT', `/api/secrets/${SECRET_KEY}`, { token, body: { value: hookSecret }, expect: [200, 201] });
  await call(baseUrl, 'POST', '/api/workflows/import?publish=true', {
    token,
    body: benchWorkflow(stubUrl),
    expect: [200, 201],
  });
  const detail = await call(baseUrl, 'GET', `/api/workflows/${WORKFLOW_KEY}`, { token, expect: [200] });
  const hookId = detail.json.hookId;
  if (!hookId) throw new Error(`GET /api/workflows/${WORKFLOW_KEY} has no hookId: ${detail.text.slice(0, 300)}`);
  return { token, hookSecret, hookId };
}

export const getRun = (baseUrl, token, id) =>
  call(baseUrl, 'GET', `/api/runs/${id}`, { token, expect: [200] }).then((r) => r.json);

/** How many runs of the workflow the Explorer lists as queued or running (counting stops at 200 per status). */
export async function unfinishedCount(baseUrl, token) {
  let n = 0;
  let capped = false;
  for (const status of ['queued', 'running']) {
    const r = await call(baseUrl, 'GET', `/api/runs?workflow=${WORKFLOW_KEY}&status=${status}&limit=200`, {
      token,
      expect: [200],
    });
    n += r.json.runs.length;
    capped ||= r.json.nextCursor !== null;
  }
  return { n, capped };
}

/** Every run of the workflow (summaries), newest first, following nextCursor; at most `maxPages` pages. */
export async function listAllRuns(baseUrl, token, maxPages) {
  const all = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const r = await call(
      baseUrl,
      'GET',
      `/api/runs?workflow=${WORKFLOW_KEY}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token, expect: [200] },
    );
    all.push(...r.json.runs);
    cursor = r.json.nextCursor;
    if (!cursor) return { runs: all, complete: true };
  }
  return { runs: all, complete: false };
}
