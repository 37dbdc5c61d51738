/**
 * The nesting and size limits (docs/workflow-file.md#limits) on every JSON input, the 30-day cap on a
 * delay's `until`, and runs that cannot start: each ends in a 4xx naming the path, or
 * in a failed run with its reason, never in a 500 or a run queued for ever.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, MAX_TRIGGER_BYTES, tooDeepPath, utf8Bytes } from '../src/lib/json-limits';
import { capValue, MAX_SEND_BATCH_BYTES } from '../src/run/limits';
import { sendBatches } from '../src/run/send-batches';
import { startRun as startRunDirect } from '../src/triggers/start-run';
import { Workflow } from '../src/workflows/workflow-file';
import { call, waitForRun } from './helpers/api';
import { apiFlow, http } from './helpers/engine';
import { requests, script, uniquePath } from '../../connectors/testing/stub-client';
import { publish, startRun, workspace, type Workspace } from './helpers/tenant';

let ws: Workspace;
const auth = () => ({ token: ws.token });

/** `{"a": {"a": ... leaf}}` with `levels` objects. */
function nested(levels: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}
/** JSON text of `levels` nested arrays, built as text (10,000 levels would overflow JSON.stringify). */
const deepArrayText = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const deepObjectText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const aPath = (n: number) => Array.from({ length: n }, () => 'a').join('.');

async function count(table: string, tenantId = ws.owner.tenant.id) {
  return (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenantId).first<{
    n: number;
  }>())!.n;
}

beforeAll(async () => {
  ws = await workspace('Limits Co');
});

describe('the depth check', () => {
  it('counts levels of objects and arrays and names the first one past the limit', () => {
    expect(tooDeepPath(nested(64))).toBeNull();
    expect(tooDeepPath(nested(65))).toEqual(Array.from({ length: 64 }, () => 'a'));
    expect(tooDeepPath([[1], { b: [[]] }], 2)).toEqual([1, 'b']);
    expect(tooDeepPath('x'.repeat(10), 0)).toBeNull();
  });

  it('walks 100,000 levels without overflowing', () => {
    const v = JSON.parse(deepArrayText(100_000));
    expect(tooDeepPath(v)).toHaveLength(64);
  });

  it('shortens hostile keys in the path', () => {
    const key = 'k'.repeat(10_000);
    const path = tooDeepPath({ [key]: { b: 1 } }, 1)!;
    expect(String(path[0]).length).toBeLessThan(50);
  });
});

describe('API bodies', () => {
  it('refuses a payload 10,000 levels deep with a 400 naming the path, and records no run', async () => {
    await publish(ws, apiFlow('deep_payload', [{ id: 'x', type: 'transform', output: { ok: true } }]));
    const runs = await count('runs');
    const res = await call('POST', '/api/workflows/deep_payload/runs', {
      token: ws.token,
      rawBody: `{"payload": ${deepObjectText(10_000)}}`,
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_request');
    expect(res.json.error.requestId).toMatch(/^req_/);
    expect(res.json.error.details[0].path).toBe(`payload.${aPath(63)}`);
    expect(await count('runs')).toBe(runs);
  });

  it('takes a payload right at the limit and runs it', async () => {
    // The body {"payload": ...} is one level, so the payload may have 63.
    const runId = await startRun(ws, 'deep_payload', nested(63));
    expect((await waitForRun(runId, auth())).status).toBe('succeeded');
    const res = await call('POST', '/api/workflows/deep_payload/runs', {
      token: ws.token,
      body: { payload: nested(64) },
    });
    expect(res.status).toBe(400);
  });

  it('refuses deep bodies on the Rule Tester and the dry run', async () => {
    const rule = await call('POST', '/api/rules/test', {
      token: ws.token,
      rawBody: `{"rule": {"==": [1, 1]}, "data": ${deepArrayText(5000)}}`,
    });
    expect(rule.status).toBe(400);
    expect(rule.json.error.details[0].path).toMatch(/^data\[0\]\[0\]/);
    const dry = await call('POST', '/api/workflows/deep_payload/test', {
      token: ws.token,
      rawBody: `{"payload": ${deepObjectText(5000)}}`,
    });
    expect(dry.status).toBe(400);
    expect(dry.json.error.details[0].path).toBe(`payload.${aPath(63)}`);
  });

  it('checks access before the body: an anonymous deep body is a 401', async () => {
    const res = await call('POST', '/api/workflows/deep_payload/runs', {
      rawBody: `{"payload": ${deepObjectText(10_000)}}`,
    });
    expect(res.status).toBe(401);
  });
});

describe('workflow files', () => {
  const base = () => ({
    key: 'deep_file',
    name: 'Deep',
    trigger: { type: 'api' },
    steps: [{ id: 'x', type: 'transform', output: { ok: true } }],
  });
  const deep = nested(70);
  // Each free-JSON field, and where the limit is crossed: level 65 of the file.
  const fields: [string, (wf: any) => void, string][] = [
    ['ui', (wf) => (wf.ui = { layout: deep }), `ui.layout.${aPath(62)}`],
    ['vars', (wf) => (wf.vars = { v: deep }), `vars.v.${aPath(62)}`],
    ['transform output', (wf) => (wf.steps[0].output = deep), `steps[0].output.${aPath(61)}`],
    [
      'action params',
      (wf) =>
        (wf.steps[0] = {
          id: 'x',
          type: 'action',
          connector: 'http',
          action: 'request',
          params: { json: deep },
        }),
      `steps[0].params.json.${aPath(60)}`,
    ],
    [
      'condition rule',
      (wf) => (wf.steps[0] = { id: 'x', type: 'condition', rule: { and: deep } }),
      `steps[0].rule.and.${aPath(60)}`,
    ],
    [
      'schedule payload',
      (wf) => (wf.trigger = { type: 'schedule', cron: '0 0 1 1 *', payload: deep }),
      `trigger.payload.${aPath(62)}`,
    ],
    [
      'branch value',
      (wf) => (wf.steps[0] = { id: 'x', type: 'branch', value: deep, cases: [{ equals: 1 }] }),
      `steps[0].value.${aPath(61)}`,
    ],
    [
      'branch equals',
      (wf) => (wf.steps[0] = { id: 'x', type: 'branch', value: 1, cases: [{ equals: deep }] }),
      `steps[0].cases[0].equals.${aPath(59)}`,
    ],
  ];

  it.each(fields)('refuses a deep %s at import and on PUT, naming the path', async (_name, patch, path) => {
    const wf = base();
    patch(wf);
    const before = { workflows: await count('workflows'), versions: await count('workflow_versions') };
    const imported = await call('POST', '/api/workflows/import?publish=true', { token: ws.token, body: wf });
    expect(imported.status).toBe(400);
    expect(imported.json.error.details[0].path).toBe(path);
    expect({ workflows: await count('workflows'), versions: await count('workflow_versions') }).toEqual(before);

    // PUT on an existing workflow.
    await call('POST', '/api/workflows/import', { token: ws.token, body: base() });
    const put = await call('PUT', '/api/workflows/deep_file', { token: ws.token, body: wf });
    expect(put.status).toBe(400);
    expect(put.json.error.details[0].path).toBe(path);
    const detail = await call('GET', '/api/workflows/deep_file', { token: ws.token });
    expect(detail.json.draft).toEqual(base());

    // The schema names the same path for a file that never came through a request body.
    const parsed = Workflow.safeParse(wf);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(
      path.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, ''),
    );
  });

  it('takes a file whose deepest field is exactly at the limit', async () => {
    const wf: any = base();
    wf.ui = { layout: nested(MAX_JSON_DEPTH - 2) };
    const res = await call('POST', '/api/workflows/import', { token: ws.token, body: wf });
    expect(res.status).toBeLessThan(300);
  });

  it('refuses a draft with params 200,000 levels deep at publish, before any recursive check sees it', async () => {
    await call('POST', '/api/workflows/import', { token: ws.token, body: base() });
    const levels = 200_000;
    await env.DB.prepare('UPDATE workflows SET draft = ? WHERE tenant_id = ? AND key = ?')
      .bind(
        `{"key":"deep_file","name":"Deep","trigger":{"type":"api"},"steps":[{"id":"x","type":"action","connector":"http","action":"request","params":{"json":${deepArrayText(levels)}}}]}`,
        ws.owner.tenant.id,
        'deep_file',
      )
      .run();
    const res = await call('POST', '/api/workflows/deep_file/publish', { token: ws.token });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      { path: `steps[0].params.json${'[0]'.repeat(60)}`, message: expect.stringMatching(/nested deeper than 64/) },
    ]);
  });

  it('refuses a deep draft planted in D1 at publish, naming the path', async () => {
    await call('POST', '/api/workflows/import', { token: ws.token, body: base() });
    await env.DB.prepare('UPDATE workflows SET draft = ? WHERE tenant_id = ? AND key = ?')
      .bind(
        `{"key":"deep_file","name":"Deep","trigger":{"type":"api"},"steps":[{"id":"x","type":"transform","output":{"ok":true}}],"ui":{"layout":${deepObjectText(1000)}}}`,
        ws.owner.tenant.id,
        'deep_file',
      )
      .run();
    const res = await call('POST', '/api/workflows/deep_file/publish', { token: ws.token });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe(`ui.layout.${aPath(62)}`);
  });
});

describe('webhook bodies', () => {
  let hookId: string;
  beforeAll(async () => {
    ({ hookId } = await publish(ws, {
      key: 'deep_hook',
      name: 'Deep hook',
      trigger: { type: 'webhook', verify: { scheme: 'none' } },
      steps: [{ id: 'x', type: 'transform', output: { got: '{{ trigger.body }}' } }],
    }));
  });

  it.each([
    ['a JSON object', 'application/json', deepObjectText(10_000), `body.${aPath(64)}`],
    ['a JSON array', 'application/json', deepArrayText(10_000), `body${'[0]'.repeat(64)}`],
    ['JSON sent as text', 'text/plain', deepArrayText(10_000), `body${'[0]'.repeat(64)}`],
  ])('refuses %s 10,000 levels deep with a 400 naming the path, recording nothing', async (_n, type, text, path) => {
    const before = { runs: await count('runs') };
    const res = await call('POST', `/hooks/${hookId}`, {
      rawBody: text,
      headers: { 'content-type': type, 'idempotency-key': crypto.randomUUID() },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe(path);
    expect({ runs: await count('runs') }).toEqual(before);
  });

  it('refuses a form body that grows past the recorded size limit with a 413', async () => {
    // 3 bytes each on the wire, 6 once written as JSON ("\u0001").
    const text = `a=${'%01'.repeat(340_000)}`;
    const res = await call('POST', `/hooks/${hookId}`, {
      rawBody: text,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
    expect(res.json.error.details[0].path).toBe('body');
    expect(MAX_TRIGGER_BYTES).toBeGreaterThan(1024 * 1024);
  });

  it('takes a large body within the limits and runs it', async () => {
    const body = { items: Array.from({ length: 2000 }, (_, i) => ({ i, text: 'é'.repeat(200) })) };
    const res = await call('POST', `/hooks/${hookId}`, { body });
    expect(res.status).toBe(202);
    expect((await waitForRun(res.json.runId, auth())).status).toBe('succeeded');
  });
});

describe('delay until', () => {
  const delayFlow = (key: string, until: string) =>
    apiFlow(key, [
      { id: 'wait', type: 'delay', until, next: 'done' },
      { id: 'done', type: 'transform', output: { ok: true } },
    ]);

  it.each([
    ['year 275760', '+275760-09-13T00:00:00.000Z'],
    ['31 days ahead', new Date(Date.now() + 31 * 86_400_000).toISOString()],
    ['not a date', 'next tuesday'],
  ])('refuses a literal until %s at publish, naming steps[0].until', async (_n, until) => {
    const res = await call('POST', '/api/workflows/import?publish=true', {
      token: ws.token,
      body: delayFlow('until_literal', until),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details.map((d: any) => d.path)).toContain('steps[0].until');
  });

  it('refuses it when a saved draft is published, and when an old version is activated', async () => {
    const far = new Date(Date.now() + 60 * 86_400_000).toISOString();
    const draft = await call('POST', '/api/workflows/import', { token: ws.token, body: delayFlow('until_draft', far) });
    expect(draft.status).toBe(201);
    const res = await call('POST', '/api/workflows/until_draft/publish', { token: ws.token });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      { path: 'steps[0].until', message: 'step "wait": at most 30 days ahead (the same cap as delayMs)' },
    ]);
  });

  it('takes a literal until 29 days ahead', async () => {
    const until = new Date(Date.now() + 29 * 86_400_000).toISOString();
    const res = await call('POST', '/api/workflows/import?publish=true', {
      token: ws.token,
      body: delayFlow('until_ok', until),
    });
    expect(res.status).toBeLessThan(300);
  });

  it.each([
    ['31 days ahead', () => new Date(Date.now() + 31 * 86_400_000).toISOString(), /more than 30 days ahead/],
    ['in year 275760', () => '+275760-09-13T00:00:00.000Z', /more than 30 days ahead/],
    ['not a date', () => 'soon', /not a date/],
  ])('fails the step of a templated until %s, with the reason', async (_n, at, reason) => {
    await publish(ws, delayFlow('until_template', '{{ trigger.body.at }}'));
    const run = await waitForRun(await startRun(ws, 'until_template', { at: at() }), auth());
    expect(run.status).toBe('failed');
    const wait = run.steps.find((s: any) => s.id === 'wait');
    expect(wait.status).toBe('failed');
    expect(wait.error.message).toMatch(reason);
    expect(run.error.message).toMatch(reason);
    expect(run.steps.find((s: any) => s.id === 'done').status).toBe('skipped');
  });
});

describe('runs that cannot start', () => {
  /** The active version's file replaced in D1, as a file published before a check existed would be. */
  async function plantActiveDefinition(key: string, definition: string) {
    await env.DB.prepare(
      `UPDATE workflow_versions SET definition = ?
       WHERE workflow_id = (SELECT id FROM workflows WHERE tenant_id = ? AND key = ?)`,
    )
      .bind(definition, ws.owner.tenant.id, key)
      .run();
  }

  /** A file the run object cannot take: its steps are not a list. */
  const brokenFile = (key: string) => `{"key":"${key}","name":"x","trigger":{"type":"api"},"steps":"x"}`;

  it('refuses to acknowledge a trigger for a version that cannot run (409, nothing recorded)', async () => {
    await publish(ws, apiFlow('broken_active', [{ id: 'x', type: 'transform', output: {} }]));
    await plantActiveDefinition('broken_active', brokenFile('broken_active'));
    const runs = await count('runs');
    const res = await call('POST', '/api/workflows/broken_active/runs', { token: ws.token, body: { payload: {} } });
    expect(res.status).toBe(409);
    expect(res.json.error.message).toMatch(/^Version 1 of workflow "broken_active" cannot run \(steps: /);
    expect(res.json.error.details[0].path).toBe('steps');
    expect(await count('runs')).toBe(runs);
    // Not JSON at all: the same answer, not a 500. (Another workflow: a version's file is
    // immutable, and isolates cache it once read.)
    await publish(ws, apiFlow('not_json_active', [{ id: 'x', type: 'transform', output: {} }]));
    await plantActiveDefinition('not_json_active', '{"key": not json');
    const notJson = await call('POST', '/api/workflows/not_json_active/runs', {
      token: ws.token,
      body: { payload: {} },
    });
    expect(notJson.status).toBe(409);
    expect(notJson.json.error.details[0]).toEqual({ path: '(root)', message: 'the stored file is not valid JSON' });
  });

  it('keeps running a version published before the limit with JSON nested deeper than it', async () => {
    // The limit refuses new files; one already published keeps running until it is replaced.
    await publish(ws, apiFlow('old_deep_ui', [{ id: 'x', type: 'transform', output: { ok: true } }]));
    await plantActiveDefinition(
      'old_deep_ui',
      `{"key":"old_deep_ui","name":"x","trigger":{"type":"api"},"steps":[{"id":"x","type":"transform","output":{"ok":true}}],"ui":{"l":${deepObjectText(1000)}}}`,
    );
    const run = await waitForRun(await startRun(ws, 'old_deep_ui', {}), auth());
    expect(run.status).toBe('succeeded');
    // Activating it again is an authoring act: refused, naming the path.
    const again = await call('POST', '/api/workflows/old_deep_ui/versions/1/activate', { token: ws.token });
    expect(again.status).toBe(400);
    expect(again.json.error.details[0].path).toBe(`ui.l.${aPath(62)}`);
  });

  it('refuses a start its run object refuses with a 409, recording nothing', async () => {
    await publish(ws, apiFlow('refused', [{ id: 'x', type: 'transform', output: {} }]));
    const wf = await env.DB.prepare(
      "SELECT w.id, t.slug, v.definition FROM workflows w JOIN tenants t ON t.id = w.tenant_id JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.active_version WHERE w.key = 'refused' AND w.tenant_id = ?",
    )
      .bind(ws.owner.tenant.id)
      .first<any>();
    const req = {
      tenant: { id: ws.owner.tenant.id, slug: wf.slug },
      workflow: { id: wf.id, key: 'refused', version: 1 },
      triggerType: 'api' as const,
      trigger: { body: {}, headers: {}, query: {} },
    };
    // The checks before the object pass (this version is known good in this isolate); the object throws on what it is given.
    await startRunDirect(env, { ...req, definition: JSON.parse(wf.definition) });
    const before = await count('runs');
    await expect(
      startRunDirect(env, { ...req, definition: { ...JSON.parse(wf.definition), steps: 'not steps' } }),
    ).rejects.toMatchObject({ code: 'version_not_runnable' });
    expect(await count('runs')).toBe(before);
  });
});

describe('connector outputs', () => {
  it('fails a step whose remote answer is nested 20,000 levels deep, once, naming the path', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 200, headers: { 'content-type': 'application/json' }, body: deepArrayText(20_000) },
      { status: 200, body: { ok: true } },
    ]);
    await publish(ws, apiFlow('deep_output', [http('call', `${env.STUB_URL}${path}`)]));
    const run = await waitForRun(await startRun(ws, 'deep_output', {}), auth());
    expect(run.status).toBe('failed');
    const step = run.steps[0];
    expect(step.attempts).toBe(1);
    expect(step.error.code).toBe('OUTPUT_TOO_DEEP');
    expect(step.error.message).toBe(
      `The action's output.body${'[0]'.repeat(63)}: nested deeper than 64 levels of objects and arrays (the limit for any JSON the service accepts)`,
    );
    // Not crashed and redelivered: the remote system was called once.
    expect(await requests(path)).toHaveLength(1);
  });
});

describe('sizes in UTF-8 bytes', () => {
  it('caps a kept output by its bytes, not its characters', () => {
    // 400,000 characters, 1.2 MB: over the 1 MiB a run keeps for later steps.
    const capped = capValue({ text: '€'.repeat(400_000) }) as { $truncated: boolean; bytes: number };
    expect(capped.$truncated).toBe(true);
    expect(capped.bytes).toBe(1_200_000 + '{"text":""}'.length);
    const ascii = { text: 'x'.repeat(400_000) };
    expect(capValue(ascii)).toBe(ascii);
  });

  it('splits Queue sends at 100 messages and at the byte budget, keeping their order', () => {
    const big = (n: number) => ({ n, blob: 'é'.repeat(50_000) }); // ~100 KB each
    const batches = sendBatches([big(1), big(2), big(3), big(4), big(5)]);
    expect(batches.map((b) => b.map((m) => m.n))).toEqual([[1, 2], [3, 4], [5]]);
    for (const b of batches)
      expect(b.reduce((sum, m) => sum + utf8Bytes(JSON.stringify(m)), 0)).toBeLessThanOrEqual(MAX_SEND_BATCH_BYTES);
    const small = Array.from({ length: 250 }, (_, n) => ({ n }));
    expect(sendBatches(small).map((b) => b.length)).toEqual([100, 100, 50]);
    expect(sendBatches([])).toEqual([]);
  });
});
