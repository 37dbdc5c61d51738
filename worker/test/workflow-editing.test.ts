/**
 * What the studio's editor relies on: problems of a draft without saving it (validate),
 * rename, disable and delete, each tenant-isolated and permissioned.
 */
import { describe, expect, it } from 'vitest';
import orderFlow from '../../workflows/order_flow.json';
import { addMember, call, putSecrets, signup, waitForRun } from './helpers/api';

const simple = (key: string) => ({
  key,
  name: 'Simple',
  trigger: { type: 'api' },
  steps: [{ id: 'shape', type: 'transform', output: { total: '{{ trigger.body.total }}' }, next: null }],
});

describe('POST /api/workflows/validate', () => {
  it('lists every problem by path without saving, and none for a good file', async () => {
    const owner = await signup();
    const bad = structuredClone(orderFlow) as any;
    bad.steps[1].connector = 'no_such_erp';
    bad.steps[2].params.headers.Authorization = 'Bearer sk_live_abcdefghijklmnopqrstuvwx';
    // The secrets are not created: the publish check names them.
    const res = await call('POST', '/api/workflows/validate', { session: owner, body: bad });
    expect(res.status).toBe(200);
    const paths = res.json.problems.map((p: any) => p.path);
    expect(paths).toContain('steps[1].connector');
    expect(paths).toContain('steps[2].params.headers.Authorization');
    expect(paths).toContain('trigger.verify.secret');
    // Nothing was saved.
    expect((await call('GET', '/api/workflows/order_flow', { session: owner })).status).toBe(404);

    const schema = await call('POST', '/api/workflows/validate', {
      session: owner,
      body: { key: 'x', name: 'x', trigger: { type: 'api' }, steps: [{ id: 'a', type: 'condition', then: 'b' }] },
    });
    expect(schema.json.problems.map((p: any) => p.path)).toEqual(expect.arrayContaining(['steps[0].rule']));

    await putSecrets(owner);
    const good = await call('POST', '/api/workflows/validate', { session: owner, body: orderFlow });
    expect(good.json).toEqual({ problems: [] });
  });

  it('names every step no path from the first step reaches; import, save and publish still accept it', async () => {
    const owner = await signup();
    const flow = {
      key: 'islands',
      name: 'Islands',
      trigger: { type: 'api' },
      steps: [
        { id: 'start', type: 'condition', rule: { '==': [1, 1] }, then: 'yes', else: null as string | null },
        { id: 'yes', type: 'transform', output: {}, next: null },
        { id: 'lonely', type: 'transform', output: {}, next: 'also_lonely' },
        { id: 'also_lonely', type: 'transform', output: {}, next: 'yes' },
      ],
    };
    const res = await call('POST', '/api/workflows/validate', { session: owner, body: flow });
    expect(res.json.problems).toEqual([
      { path: 'steps[2]', message: expect.stringContaining('"lonely": no path from the first step reaches it') },
      { path: 'steps[3]', message: expect.stringContaining('"also_lonely": no path') },
    ]);
    // Not a publish check (publish-checks.ts says why): such files import and publish as before.
    expect((await call('POST', '/api/workflows/import', { session: owner, body: flow })).status).toBe(201);
    expect((await call('POST', '/api/workflows/islands/publish', { session: owner })).json.version).toBe(1);
    // Linking the island from the reached part clears it; a step reached only through it counts too.
    flow.steps[0].else = 'lonely';
    expect((await call('POST', '/api/workflows/validate', { session: owner, body: flow })).json).toEqual({
      problems: [],
    });
    // A file whose steps[0] is the only step, or that has none left to reach, has no such problem.
    const single = { ...flow, key: 'single', steps: [flow.steps[1]] };
    expect((await call('POST', '/api/workflows/validate', { session: owner, body: single })).json).toEqual({
      problems: [],
    });
  });

  it('is a 400 for a body that is not JSON', async () => {
    const owner = await signup();
    const res = await call('POST', '/api/workflows/validate', {
      session: owner,
      rawBody: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_request');
  });
});

describe('rename, disable, delete', () => {
  it('renames (the draft follows), disables (no new runs) and deletes with its runs', async () => {
    const owner = await signup();
    expect(
      (await call('POST', '/api/workflows/import?publish=true', { session: owner, body: simple('flow') })).status,
    ).toBe(201);
    const renamed = await call('PATCH', '/api/workflows/flow', { session: owner, body: { name: 'Renamed flow' } });
    expect(renamed.status).toBe(200);
    const detail = await call('GET', '/api/workflows/flow', { session: owner });
    expect(detail.json.name).toBe('Renamed flow');
    expect(detail.json.draft.name).toBe('Renamed flow');
    const badName = await call('PATCH', '/api/workflows/flow', { session: owner, body: { name: '' } });
    expect(badName.status).toBe(400);
    expect(badName.json.error.details[0].path).toBe('name');

    const started = await call('POST', '/api/workflows/flow/runs', { session: owner, body: { payload: { total: 5 } } });
    expect(started.status).toBe(202);
    await waitForRun(started.json.runId, { session: owner });
    expect((await call('GET', '/api/workflows/flow/runs/count', { session: owner })).json).toEqual({
      total: 1,
      inFlight: 0,
    });

    expect((await call('POST', '/api/workflows/flow/disable', { session: owner })).status).toBe(200);
    expect((await call('GET', '/api/workflows/flow', { session: owner })).json.activeVersion).toBeNull();
    const refused = await call('POST', '/api/workflows/flow/runs', { session: owner, body: { payload: {} } });
    expect(refused.status).toBe(409);
    // Enabling again is activating a version.
    expect((await call('POST', '/api/workflows/flow/versions/1/activate', { session: owner })).status).toBe(200);

    const deleted = await call('DELETE', '/api/workflows/flow', { session: owner });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ key: 'flow', deleted: true, runsDeleted: 1 });
    expect((await call('GET', '/api/workflows/flow', { session: owner })).status).toBe(404);
    expect((await call('GET', `/api/runs/${started.json.runId}`, { session: owner })).status).toBe(404);
    // The key is free again.
    expect((await call('POST', '/api/workflows/import', { session: owner, body: simple('flow') })).status).toBe(201);
  });

  it("another tenant's workflow is a 404 on every new route, and viewers may not change one", async () => {
    const owner = await signup();
    const other = await signup();
    await call('POST', '/api/workflows/import?publish=true', { session: owner, body: simple('mine') });
    for (const [method, path, body] of [
      ['PATCH', '/api/workflows/mine', { name: 'Taken' }],
      ['POST', '/api/workflows/mine/disable', undefined],
      ['GET', '/api/workflows/mine/runs/count', undefined],
      ['DELETE', '/api/workflows/mine', undefined],
    ] as const) {
      const res = await call(method, path, { session: other, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const viewer = await addMember(owner, 'viewer');
    expect((await call('PATCH', '/api/workflows/mine', { session: viewer, body: { name: 'x' } })).status).toBe(403);
    expect((await call('DELETE', '/api/workflows/mine', { session: viewer })).status).toBe(403);
    expect((await call('GET', '/api/workflows/mine', { session: owner })).json).toMatchObject({
      name: 'Simple',
      activeVersion: 1,
    });
  });
});
