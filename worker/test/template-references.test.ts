/**
 * Templates that can never resolve are refused at import, save and publish, naming the
 * field and the step; absent data inside real values still renders as null; versions
 * published before the check keep running.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import orderFlow from '../../workflows/order_flow.json';
import { Workflow } from '../src/workflows/workflow-file';
import { call, waitForRun } from './helpers/api';
import { apiFlow } from './helpers/engine';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

/** `{path: message}` for every issue the schema reports. */
function issues(file: unknown): Record<string, string> {
  const r = Workflow.safeParse(file);
  if (r.success) return {};
  const out: Record<string, string> = {};
  for (const i of r.error.issues) {
    let p = '';
    for (const k of i.path) p += typeof k === 'number' ? `[${k}]` : p ? `.${String(k)}` : String(k);
    out[p] = i.message;
  }
  return out;
}

const transform = (id: string, output: unknown, next: string | null = null) => ({
  id,
  type: 'transform',
  output,
  next,
});

describe('the schema', () => {
  it('accepts the example and every root the engine fills', () => {
    expect(issues(orderFlow)).toEqual({});
    expect(
      issues({
        ...apiFlow('ok', [
          transform('a', { x: '{{ trigger.body.x }}', h: '{{ trigger.headers }}', q: '{{ trigger.query.page }}' }, 'b'),
          transform(
            'b',
            {
              whole: '{{ steps.a.output }}',
              deep: '{{ steps.a.output.x.y[3].z }}',
              run: '{{ run.id }}/{{ run.version }}/{{ run.workflow }}/{{ run.startedAt }}',
              v: '{{ vars.url }}',
              trigger: '{{ trigger }}',
            },
            null,
          ),
        ]),
        vars: { url: 'https://example.com' },
      }),
    ).toEqual({});
  });

  it('refuses a step that does not exist, naming the field path and the step', () => {
    const file = apiFlow('typo', [
      transform('a', { n: 1 }, 'b'),
      {
        id: 'b',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: { url: 'https://example.com', json: { body: { sku: '{{ steps.nope.output.x }}' } } },
      },
    ]);
    const found = issues(file);
    expect(Object.keys(found)).toEqual(['steps[1].params.json.body.sku']);
    expect(found['steps[1].params.json.body.sku']).toMatch(/"nope", which does not exist/);
  });

  it('refuses a later step, a step on another branch and the step itself; allows an ancestor on one of two paths', () => {
    const file = apiFlow('graph', [
      {
        id: 'check',
        type: 'condition',
        rule: { '>': [{ var: 'trigger.body.total' }, 10] },
        then: 'big',
        else: 'small',
      },
      transform('big', { from: '{{ steps.small.output.tag }}', self: '{{ steps.big.output }}' }, 'join'),
      transform('small', { tag: 'small' }, 'join'),
      transform('join', { tag: '{{ steps.small.output.tag }}', later: '{{ steps.last.output }}' }, 'last'),
      transform('last', { ok: '{{ steps.check.output.passed }}' }),
    ]);
    const found = issues(file);
    expect(Object.keys(found).sort()).toEqual([
      'steps[1].output.from',
      'steps[1].output.self',
      'steps[3].output.later',
    ]);
    expect(found['steps[1].output.from']).toMatch(/"small", which cannot run before step "big"/);
    expect(found['steps[1].output.self']).toMatch(/from inside itself/);
    expect(found['steps[3].output.later']).toMatch(/"last", which cannot run before step "join"/);
  });

  it('checks every template-bearing field: branch value and equals, delay until, transform output, rule vars', () => {
    const file = apiFlow('fields', [
      {
        id: 'route',
        type: 'branch',
        value: '{{ steps.ghost.output.country }}',
        cases: [{ equals: '{{ vars.missing }}', next: 'wait' }],
        default: null,
      },
      { id: 'wait', type: 'delay', until: '{{ steps.after.output.at }}', next: 'decide' },
      {
        id: 'decide',
        type: 'condition',
        rule: {
          and: [
            { '==': [{ var: 'steps.after.output.ok' }, true] },
            { '==': [{ var: ['trigger.bdy.x', 0] }, 1] },
            { some: [{ var: 'steps.route.output.value' }, { '==': [{ var: 'sku' }, 'A'] }] },
          ],
        },
        then: 'after',
        else: null,
      },
      transform('after', { at: '{{ trgger.body.at }}' }),
    ]);
    const found = issues(file);
    expect(found).toMatchObject({
      'steps[0].value': expect.stringMatching(/"ghost", which does not exist/),
      'steps[0].cases[0].equals': expect.stringMatching(/no var "missing"/),
      'steps[1].until': expect.stringMatching(/"after", which cannot run before step "wait"/),
      'steps[2].rule.and[0].==[0].var': expect.stringMatching(/"after", which cannot run before step "decide"/),
      'steps[2].rule.and[1].==[0].var[0]': expect.stringMatching(/body, headers, query and type, not "bdy"/),
      'steps[3].output.at': expect.stringMatching(/templates read trigger, steps, vars, run or secrets, not "trgger"/),
    });
    // `{"var": "sku"}` inside `some` reads the current item, not the run's data.
    expect(Object.keys(found)).toHaveLength(6);
  });

  it('refuses secrets outside action params, malformed secret paths, and fields no step or run has', () => {
    const file = apiFlow('misc', [
      {
        id: 'call',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: { url: 'https://example.com', headers: { a: '{{ secrets.K }}', b: '{{ secrets.K.x }}' } },
        secrets: { K: { $secret: 'SOME_KEY' } },
        next: 'after',
      },
      transform('after', { k: '{{ secrets.K }}', o: '{{ steps.call.outptu.id }}', r: '{{ run.attempt }}' }),
    ]);
    const found = issues(file);
    expect(Object.keys(found).sort()).toEqual([
      'steps[0].params.headers.b',
      'steps[1].output.k',
      'steps[1].output.o',
      'steps[1].output.r',
    ]);
    expect(found['steps[1].output.k']).toMatch(/secrets reach only an action step's params/);
    expect(found['steps[1].output.o']).toMatch(/exposes "output", not "outptu"/);
    expect(found['steps[1].output.r']).toMatch(/not "attempt"/);
  });

  it('leaves text that is not a template alone', () => {
    expect(issues(apiFlow('text', [transform('a', { t: 'use {{ like this }} or {{}}', n: '{{ x y }}' })]))).toEqual({});
  });
});

describe('through the API', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await workspace('Template References Co');
  });

  // The probe's case: accepted before, then every run showed `null` in the Explorer.
  const typo = (key: string) => ({
    ...apiFlow(key, [
      transform('prep', { sku: '{{ trigger.body.sku }}' }, 'notify'),
      {
        id: 'notify',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: { method: 'POST', url: 'https://example.com/hook', json: { sku: '{{ steps.prpe.output.sku }}' } },
      },
    ]),
  });

  it('import refuses it with a 400 naming the field and the step, and stores nothing', async () => {
    const res = await call('POST', '/api/workflows/import', { token: ws.token, body: typo('typo_flow') });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_request');
    expect(res.json.error.details).toEqual([
      { path: 'steps[1].params.json.sku', message: expect.stringMatching(/step "prpe", which does not exist/) },
    ]);
    expect(res.json.error.message).toContain('steps[1].params.json.sku');
    expect((await call('GET', '/api/workflows/typo_flow', { token: ws.token })).status).toBe(404);
  });

  it('saving a draft (PUT) refuses it too', async () => {
    const res = await call('PUT', '/api/workflows/typo_put', { token: ws.token, body: typo('typo_put') });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('steps[1].params.json.sku');
  });

  it('a version published before the check keeps running (absent values stay null); publishing its draft is refused', async () => {
    const good = typo('legacy_flow');
    (good.steps[1] as any).params.json.sku = '{{ steps.prep.output.sku }}';
    (good.steps[1] as any).params.url = `${env.STUB_URL}/http/ok`;
    await publish(ws, good);
    // What an older release accepted and stored: the same file with the typo, as version 1 and as the draft.
    const bad = JSON.parse(JSON.stringify(good));
    bad.steps[1].params.json.sku = '{{ steps.prpe.output.sku }}';
    const tenantId = ws.owner.tenant.id;
    await env.DB.prepare(
      "UPDATE workflow_versions SET definition = ?1 WHERE tenant_id = ?2 AND version = 1 AND workflow_id = (SELECT id FROM workflows WHERE tenant_id = ?2 AND key = 'legacy_flow')",
    )
      .bind(JSON.stringify(bad), tenantId)
      .run();
    await env.DB.prepare("UPDATE workflows SET draft = ?1 WHERE tenant_id = ?2 AND key = 'legacy_flow'")
      .bind(JSON.stringify(bad), tenantId)
      .run();

    const run = await waitForRun(await startRun(ws, 'legacy_flow', { sku: 'A-1' }), { token: ws.token });
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.steps.find((s: any) => s.id === 'notify').input.params.json).toEqual({ sku: null });

    const res = await call('POST', '/api/workflows/legacy_flow/publish', { token: ws.token });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      { path: 'steps[1].params.json.sku', message: expect.stringMatching(/"prpe", which does not exist/) },
    ]);
  });
});
