/**
 * Setting up a tenant through the public API and reading runs back from the Execution
 * Explorer's routes, with the one typed client (api/client.ts; Node 24 runs it as is).
 */
import { randomBytes } from 'node:crypto';
import { createApiClient, SCOPES } from '../../api/client.ts';

export const WORKFLOW_KEY = 'bench_flow';
export const SECRET_KEY = 'BENCH_HOOK_SECRET';
export const PATH_A = '/http/bench-a';
export const PATH_B = '/http/bench-b';
const CALL_TIMEOUT_MS = 30_000;

/** Awaits a client call and returns its data; any status outside `expect` (default: any 2xx) throws. */
async function ok(call, expect) {
  const { data, error, response } = await call;
  if (expect ? !expect.includes(response.status) : !response.ok)
    throw new Error(`${response.url}: ${response.status} ${JSON.stringify(error ?? data).slice(0, 500)}`);
  return { data, response };
}

const client = (baseUrl, auth) => createApiClient({ baseUrl, timeoutMs: CALL_TIMEOUT_MS, ...auth });

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

/**
 * API tokens need a confirmed address: follow the link sign-up mailed, from the dev outbox
 * (the bench's stack runs with ENVIRONMENT=development; docs/accounts.md).
 */
async function confirmAddress(baseUrl, email) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { messages } = (await ok(client(baseUrl).GET('/dev/outbox', { params: { query: { to: email } } }), [200]))
      .data;
    const token = /#token=([A-Za-z0-9_-]+)/.exec(messages.find((m) => m.template === 'verify_email')?.text ?? '')?.[1];
    if (token) {
      await ok(client(baseUrl).POST('/auth/verify-email', { body: { token } }), [200]);
      return;
    }
    if (Date.now() > deadline) throw new Error(`no verification mail for ${email} in the dev outbox`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Tenant, owner session, full-scope token, signing secret, published workflow. */
export async function setUpTenant(baseUrl, stubUrl) {
  const suffix = randomBytes(4).toString('hex');
  const signup = await ok(
    client(baseUrl).POST('/auth/signup', {
      body: {
        tenant: `Bench ${suffix}`,
        email: `bench-${suffix}@example.com`,
        password: 'correct horse battery staple',
      },
    }),
    [201],
  );
  const cookie = signup.response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (!cookie) throw new Error('signup set no session cookie');
  await confirmAddress(baseUrl, `bench-${suffix}@example.com`);
  const owner = client(baseUrl, { cookie });
  const { token } = (await ok(owner.POST('/tokens', { body: { name: 'bench', scopes: [...SCOPES] } }), [201])).data;
  const api = client(baseUrl, { token });
  const hookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  await ok(
    api.PUT('/secrets/{key}', { params: { path: { key: SECRET_KEY } }, body: { value: hookSecret } }),
    [200, 201],
  );
  await ok(
    api.POST('/workflows/import', { params: { query: { publish: 'true' } }, body: benchWorkflow(stubUrl) }),
    [200, 201],
  );
  const detail = (await ok(api.GET('/workflows/{key}', { params: { path: { key: WORKFLOW_KEY } } }), [200])).data;
  if (!detail.hookId) throw new Error(`GET /api/workflows/${WORKFLOW_KEY} has no hookId: ${JSON.stringify(detail)}`);
  return { token, hookSecret, hookId: detail.hookId };
}

export const getRun = async (baseUrl, token, id) =>
  (await ok(client(baseUrl, { token }).GET('/runs/{id}', { params: { path: { id } } }), [200])).data;

const listRuns = async (baseUrl, token, query) =>
  (await ok(client(baseUrl, { token }).GET('/runs', { params: { query } }), [200])).data;

/** How many runs of the workflow the Explorer lists as queued or running (counting stops at 200 per status). */
export async function unfinishedCount(baseUrl, token) {
  let n = 0;
  let capped = false;
  for (const status of ['queued', 'running']) {
    const page = await listRuns(baseUrl, token, { workflow: WORKFLOW_KEY, status, limit: 200 });
    n += page.runs.length;
    capped ||= page.nextCursor !== null;
  }
  return { n, capped };
}

/** Every run of the workflow (summaries), newest first, following nextCursor; at most `maxPages` pages. */
export async function listAllRuns(baseUrl, token, maxPages) {
  const all = [];
  let cursor;
  for (let page = 0; page < maxPages; page++) {
    const r = await listRuns(baseUrl, token, { workflow: WORKFLOW_KEY, limit: 200, ...(cursor ? { cursor } : {}) });
    all.push(...r.runs);
    cursor = r.nextCursor;
    if (!cursor) return { runs: all, complete: true };
  }
  return { runs: all, complete: false };
}
