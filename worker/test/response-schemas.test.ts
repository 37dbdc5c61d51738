/**
 * The response schemas in worker/src/routes are what every client compiles against
 * (api/schema.d.ts, docs/api-client.md), so real answers must match them exactly: each
 * documented field present with its type, and no undocumented one (zod drops keys a schema
 * does not name, so `parse(body)` must equal `body`).
 */
import { env } from 'cloudflare:test';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { script, uniquePath } from '../../connectors/testing/stub-client';
import { createApp } from '../src/app';
import { call, waitForRun } from './helpers/api';
import { apiFlow, http } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

type RouteDefinition = {
  type: string;
  route?: {
    method: string;
    path: string;
    responses: Record<string, { content?: Record<string, { schema: z.ZodType }> }>;
  };
};

const definitions = createApp().openAPIRegistry.definitions as RouteDefinition[];

/** The zod schema a route documents for this status (paths as in the OpenAPI document). */
function documented(method: string, path: string, status: number): z.ZodType {
  const route = definitions.find(
    (d) => d.type === 'route' && d.route!.method === method && d.route!.path.replace(/^\/api/, '') === path,
  )?.route;
  const schema = route?.responses[status]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`no ${status} JSON response documented for ${method.toUpperCase()} ${path}`);
  return schema;
}

async function expectDocumented(method: string, path: string, url: string, auth: object, body?: unknown) {
  const res = await call(method.toUpperCase(), `/api${url}`, { ...auth, body });
  const parsed = documented(method, path, res.status).safeParse(res.json);
  expect(parsed.error?.issues ?? [], `${method.toUpperCase()} ${url}`).toEqual([]);
  expect(parsed.data, `${method.toUpperCase()} ${url}: fields the schema does not name`).toEqual(res.json);
  return res.json;
}

let ws: Workspace;
let runId: string;

beforeAll(async () => {
  ws = await workspace('Schema Co');
  const path = uniquePath();
  // One retry then a hard failure: the run record has an attempt log, a step error and a run error.
  await script(path, [
    { status: 503, body: 'busy' },
    { status: 400, body: { error: 'bad order' } },
  ]);
  await publish(
    ws,
    apiFlow('schema_flow', [
      { id: 'shape', type: 'transform', output: { total: '{{ trigger.body.total }}' }, next: 'call' },
      http('call', `${env.STUB_URL}${path}`, { retry: { maxAttempts: 3, backoff: 'constant', initialDelayMs: 10 } }),
    ]),
  );
  runId = await startRun(ws, 'schema_flow', { total: 120 });
  await waitForRun(runId, { token: ws.token });
});

describe('responses match their documented schemas', () => {
  const token = () => ({ token: ws.token });
  const session = () => ({ session: ws.owner });

  it('workflows: list, detail (active typed by the workflow file schema), versions, dry run', async () => {
    await expectDocumented('get', '/workflows', '/workflows', token());
    const detail = await expectDocumented('get', '/workflows/{key}', '/workflows/schema_flow', token());
    expect(detail.active.steps[1].retry.maxAttempts).toBe(3);
    await expectDocumented('get', '/workflows/{key}/versions', '/workflows/schema_flow/versions', token());
    const report = await expectDocumented('post', '/workflows/{key}/test', '/workflows/schema_flow/test', token(), {
      payload: { total: 5 },
    });
    expect(report.steps.map((s: { id: string }) => s.id)).toEqual(['shape', 'call']);
  });

  it('runs: the page and a failed run with its attempt log, step error and recorded trigger', async () => {
    await expectDocumented('get', '/runs', '/runs', token());
    const run = await expectDocumented('get', '/runs/{id}', `/runs/${runId}`, token());
    expect(run.status).toBe('failed');
    expect(run.error.stepId).toBe('call');
    const failed = run.steps.find((s: { id: string }) => s.id === 'call');
    expect(failed.attemptLog.map((a: { outcome: string }) => a.outcome)).toEqual(['retrying', 'failed']);
    expect(failed.error).toMatchObject({ retryable: false, status: 400 });
  });

  it('tools, identities and secrets', async () => {
    const { connectors } = await expectDocumented('get', '/connectors', '/connectors', token());
    expect(connectors.map((c: { code: string }) => c.code)).toContain('http');
    await expectDocumented('post', '/rules/test', '/rules/test', token(), { rule: { '>': [1, 0] } });
    await expectDocumented('get', '/auth/me', '/auth/me', session());
    await expectDocumented('get', '/auth/me', '/auth/me', token());
    await expectDocumented('get', '/tokens', '/tokens', session());
    await expectDocumented('get', '/members', '/members', session());
    await expectDocumented('get', '/secrets', '/secrets', session());
    await expectDocumented('get', '/audit', '/audit', session());
  });

  it('copilot: a draft is a workflow file with notes', async () => {
    const draft = await expectDocumented('post', '/copilot/draft', '/copilot/draft', token(), {
      prompt: 'When a high value order comes in, create it in the ERP and notify sales on Slack',
    });
    expect(draft.workflow.steps[0].type).toBe('condition');
  });
});
