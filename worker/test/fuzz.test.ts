/**
 * Property-based fuzzing of every route in /api/openapi.json and of /hooks/:hookId:
 * generated hostile bodies (deep, huge, wrong types, prototype keys, odd numbers and
 * unicode), path parameters (the tenant's real ones, another tenant's, random), query
 * strings and headers (content types, credentials). Every answer must be below 500,
 * every refusal must be the documented error shape, and a refused request must leave
 * no row behind. Seeded and bounded: the same requests on every run.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../src/http/router';
import { MAX_JSON_DEPTH } from '../src/lib/json-limits';
import { signStandardWebhook } from '../src/triggers/webhook-verify';
import { BASE, call, createToken, ORDER_FLOW_SECRETS, type Session } from './helpers/api';
import { ROUTES, type Fixture } from './helpers/route-table';
import {
  type AuthSpec,
  authSpec,
  type BodySpec,
  bodySpec,
  bodyText,
  contentType,
  type ParamSpec,
  paramSpec,
  querySpec,
  wellFormed,
} from './helpers/hostile';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';
import { exports } from 'cloudflare:workers';

const SEED = 20261201;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
/** Routes that take a body get more requests: that is where the hostile input goes. */
const RUNS_PER_ROUTE = { body: 40, none: 12 };
const HOOK_RUNS = 160;
/** Tables a refused request must not add to. */
const TABLES = ['runs', 'workflows', 'workflow_versions', 'secrets', 'api_tokens', 'webhook_events'];

interface Tenant {
  ws: Workspace;
  key: string;
  runId: string;
  tokenId: string;
  secretKey: string;
  signedHookKey: string;
  openHookKey: string;
}

let mine: Tenant;
let theirs: Tenant;
let operations: { method: string; template: string; hasBody: boolean }[];

async function tenant(name: string): Promise<Tenant> {
  const ws = await workspace(name);
  const key = 'fuzz_flow';
  await publish(ws, {
    key,
    name: 'Fuzz',
    trigger: { type: 'api' },
    steps: [{ id: 'echo', type: 'transform', output: { got: '{{ trigger.body }}' } }],
  });
  const signedHookKey = 'fuzz_signed';
  await publish(ws, {
    key: signedHookKey,
    name: 'Signed hook',
    trigger: {
      type: 'webhook',
      verify: { scheme: 'standard-webhooks', secret: { $secret: 'SHOP_WEBHOOK_SECRET' } },
    },
    steps: [{ id: 'echo', type: 'transform', output: { got: '{{ trigger.body }}' } }],
  });
  const openHookKey = 'fuzz_open';
  await publish(ws, {
    key: openHookKey,
    name: 'Open hook',
    trigger: { type: 'webhook', verify: { scheme: 'none' } },
    steps: [{ id: 'echo', type: 'transform', output: { got: '{{ trigger.body }}' } }],
  });
  const spare = await call('POST', '/api/tokens', { session: ws.owner, body: { name: 'spare' } });
  return {
    ws,
    key,
    runId: await startRun(ws, key, { hello: 'world' }),
    tokenId: spare.json.id,
    secretKey: 'ERP_API_KEY',
    signedHookKey,
    openHookKey,
  };
}

/** Every run a fuzzed request started must end (succeeded or failed), not wait for ever. */
async function expectNoRunLeftWaiting() {
  const deadline = Date.now() + 20_000;
  let waiting: unknown[] = [];
  while (Date.now() < deadline) {
    const { results } = await env.DB.prepare(
      "SELECT id, status, workflow_key FROM runs WHERE status IN ('queued', 'running')",
    ).all();
    waiting = results;
    if (!waiting.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(waiting).toEqual([]);
}

async function counts(): Promise<Record<string, number>> {
  const rows = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${t}`)));
  return Object.fromEntries(TABLES.map((t, i) => [t, (rows[i].results[0] as { n: number }).n]));
}

const encode = (s: string) => encodeURIComponent(wellFormed(s));

function realParam(name: string, template: string, t: Tenant): string {
  if (name === 'key') return template.startsWith('/secrets') ? t.secretKey : t.key;
  if (name === 'id') return template.startsWith('/tokens') ? t.tokenId : t.runId;
  if (name === 'n') return '1';
  throw new Error(`no real value for path parameter {${name}} in ${template}`);
}

function fillPath(template: string, specs: ParamSpec[]): string {
  let i = 0;
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const spec = specs[i++ % specs.length];
    if (spec.kind === 'real') return encode(realParam(name, template, mine));
    if (spec.kind === 'foreign') return encode(realParam(name, template, theirs));
    return encode(spec.value);
  });
}

function authHeaders(auth: AuthSpec, session: Session, token: string): Record<string, string> {
  switch (auth) {
    case 'token':
      return { authorization: `Bearer ${token}` };
    case 'session':
      return { cookie: session.cookie, origin: BASE };
    case 'session-no-origin':
      return { cookie: session.cookie };
    case 'none':
      return {};
    case 'bad-token':
      return { authorization: 'Bearer atm_0000000000000000000000000000000000' };
    case 'malformed':
      return { authorization: 'Bearer' };
    case 'basic':
      return { authorization: `Basic ${btoa('a:b')}` };
    case 'huge':
      return { authorization: `Bearer ${'x'.repeat(8000)}`, cookie: `automate_session=${'y'.repeat(4000)}` };
  }
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

async function send(req: Sent) {
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(
    new Request(BASE + req.path, { method: req.method, headers: req.headers, body: req.body }),
  );
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, text, json };
}

const describeBody = (spec: BodySpec, body?: string) =>
  `${spec.kind}${body === undefined ? '' : ` (${body.length} chars: ${body.slice(0, 120)})`}`;

/** The checks every answer must pass; throws naming the request. */
async function check(req: Sent, spec: BodySpec, before: Record<string, number>) {
  const res = await send(req);
  const what = `${req.method} ${req.path.slice(0, 200)} [${req.headers['content-type'] ?? 'no content-type'}] body ${describeBody(spec, req.body)}`;
  if (res.status >= 500) throw new Error(`${res.status} for ${what}: ${res.text.slice(0, 300)}`);
  // The generator knows when it broke the nesting limit (its wrapper object is one more level).
  // /api reads JSON only when the content type says so; a webhook body that looks like JSON is JSON.
  const readAsJson =
    req.path.startsWith('/hooks/') || JSON_MEDIA_TYPE.test((req.headers['content-type'] ?? '').split(';')[0].trim());
  if (
    res.status < 300 &&
    req.body !== undefined &&
    readAsJson &&
    spec.kind === 'deep' &&
    spec.levels + 1 > MAX_JSON_DEPTH
  )
    throw new Error(`${res.status}: accepted a body nested ${spec.levels + 1} levels: ${what}`);
  if (res.status >= 300) {
    const shape = ErrorBody.safeParse(res.json);
    if (!shape.success) throw new Error(`${res.status} outside the error shape for ${what}: ${res.text.slice(0, 300)}`);
    const after = await counts();
    for (const t of TABLES)
      if (after[t] !== before[t])
        throw new Error(`refused (${res.status}) but ${t} went ${before[t]} -> ${after[t]}: ${what}`);
  }
  return res.status;
}

/** Deterministic edge cases for every field: 20,000 levels deep, and a megabyte of escaped characters. */
function edgeExamples(fields: string[]) {
  const real: ParamSpec = { kind: 'real' };
  const bodies: BodySpec[] = fields.flatMap((field) => [
    { kind: 'deep', field, levels: 20_000, shape: 'object' },
    { kind: 'deep', field, levels: 65, shape: 'array' },
  ]);
  bodies.push(
    { kind: 'huge', field: fields[0], bytes: 1_000_000, unit: '\u0001' },
    { kind: 'form', pairs: [['a', '\u0001'.repeat(300_000)]] },
  );
  return bodies.map(
    (body) =>
      [
        {
          params: [real, real],
          body,
          contentType: body.kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
          auth: 'token' as AuthSpec,
          query: [] as [string, string][],
        },
      ] as [{ params: ParamSpec[]; body: BodySpec; contentType: string; auth: AuthSpec; query: [string, string][] }],
  );
}

beforeAll(async () => {
  mine = await tenant('Fuzz Co');
  theirs = await tenant('Other Co');
  const doc = await call('GET', '/api/openapi.json');
  expect(doc.status).toBe(200);
  operations = [];
  for (const [template, item] of Object.entries(doc.json.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      operations.push({ method: method.toUpperCase(), template, hasBody: !!op.requestBody });
    }
  }
});

describe('fuzzing every route in the OpenAPI document', () => {
  it('covers every route the route table knows', () => {
    const documented = new Set(operations.map((o) => `${o.method} /api${o.template}`));
    for (const r of ROUTES) expect(documented).toContain(`${r.method} ${r.template}`);
  });

  it('answers every hostile request below 500, in the error shape, leaving nothing behind', async () => {
    const statuses = new Map<number, number>();
    // A session only for fuzzing, so a fuzzed logout does not sign out the helpers' one.
    const fuzzToken = await createToken(mine.ws.owner, [
      'workflows:read',
      'workflows:write',
      'runs:trigger',
      'runs:read',
      'secrets:write',
      'audit:read',
    ]);
    for (const op of operations) {
      const route = ROUTES.find((r) => r.method === op.method && r.template === `/api${op.template}`);
      const valid = route?.body?.({ workflowKey: mine.key } as Fixture);
      const fields = valid && typeof valid === 'object' ? Object.keys(valid) : [];
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            params: fc.array(paramSpec, { minLength: 2, maxLength: 2 }),
            body: bodySpec(fields),
            contentType,
            auth: authSpec,
            query: querySpec,
          }),
          async (g) => {
            const session = mine.ws.owner;
            const headers: Record<string, string> = {
              ...authHeaders(
                op.template === '/auth/logout' && g.auth.startsWith('session') ? 'none' : g.auth,
                session,
                fuzzToken,
              ),
            };
            const body = op.method === 'GET' ? undefined : bodyText(g.body, valid);
            if (body !== undefined && g.contentType) headers['content-type'] = g.contentType;
            const qs = g.query.length
              ? `?${new URLSearchParams(g.query.map(([k, v]) => [wellFormed(k), wellFormed(v)]))}`
              : '';
            const before = await counts();
            const status = await check(
              { method: op.method, path: `/api${fillPath(op.template, g.params)}${qs}`, headers, body },
              g.body,
              before,
            );
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          },
        ),
        {
          seed: SEED,
          numRuns: op.hasBody ? RUNS_PER_ROUTE.body : RUNS_PER_ROUTE.none,
          endOnFailure: true,
          // Besides the random ones: each field of a well-formed request made very deep, then huge.
          examples: op.hasBody ? edgeExamples(fields.length ? fields : ['payload']) : [],
        },
      );
    }
    // The fuzzer reached the routes' logic, not only their doors.
    const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(operations.length);
    expect(statuses.get(400)).toBeGreaterThan(50);
    await expectNoRunLeftWaiting();
  }, 120_000);
});

describe('fuzzing /hooks/:hookId', () => {
  it('answers every delivery below 500, in the error shape, leaving nothing behind on a refusal', async () => {
    const hookOf = async (key: string) =>
      (await call('GET', `/api/workflows/${key}`, { token: mine.ws.token })).json.hookId as string;
    const signed = await hookOf(mine.signedHookKey);
    const open = await hookOf(mine.openHookKey);
    const foreign = (await call('GET', `/api/workflows/${theirs.openHookKey}`, { token: theirs.ws.token })).json
      .hookId as string;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          hook: fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom('signed', 'open', 'foreign-open') },
            fc.string({ minLength: 20, maxLength: 64 }).map((s) => `hk_${s}`),
            fc.string({ maxLength: 80 }),
          ),
          signature: fc.constantFrom('valid', 'valid', 'wrong', 'missing', 'stale'),
          body: bodySpec(['order', 'total', 'id']),
          contentType,
          query: querySpec,
        }),
        async (g) => {
          const hookId =
            g.hook === 'signed' ? signed : g.hook === 'open' ? open : g.hook === 'foreign-open' ? foreign : g.hook;
          const body = bodyText(g.body, { order: { id: 1, total: 10 } }) ?? '';
          const headers: Record<string, string> = {};
          if (g.contentType) headers['content-type'] = g.contentType;
          if (g.signature !== 'missing') {
            const id = `msg_${crypto.randomUUID()}`;
            const ts = Math.floor(Date.now() / 1000) - (g.signature === 'stale' ? 3600 : 0);
            headers['webhook-id'] = id;
            headers['webhook-timestamp'] = String(ts);
            headers['webhook-signature'] =
              g.signature === 'wrong'
                ? 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
                : await signStandardWebhook(ORDER_FLOW_SECRETS.SHOP_WEBHOOK_SECRET, id, ts, body);
          }
          const qs = g.query.length
            ? `?${new URLSearchParams(g.query.map(([k, v]) => [wellFormed(k), wellFormed(v)]))}`
            : '';
          const before = await counts();
          const status = await check(
            { method: 'POST', path: `/hooks/${encode(hookId)}${qs}`, headers, body },
            g.body,
            before,
          );
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        },
      ),
      {
        seed: SEED,
        numRuns: HOOK_RUNS,
        endOnFailure: true,
        examples: (['signed', 'open'] as const).flatMap((hook) =>
          edgeExamples(['order']).map(
            ([e]) => [{ hook, signature: 'valid', body: e.body, contentType: e.contentType, query: [] }] as [any],
          ),
        ),
      },
    );
    expect(statuses.get(202)).toBeGreaterThan(5);
    await expectNoRunLeftWaiting();
  }, 120_000);
});
