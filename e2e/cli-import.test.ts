import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createToken,
  ok,
  provideSecrets,
  root,
  runCli,
  signup,
  storedSecretKeys,
  withToken,
  type Account,
} from './helpers';

const baseUrl = inject('baseUrl');

// The order flow example exactly as shipped in workflows/ (docs/workflow-file.md): it must import unchanged.
const examples = [path.join(root, 'workflows/order_flow.json')].filter((f) => existsSync(f));
const example = examples[0];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'automate-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small valid workflow with no secrets. */
const hello = (key: string) => ({
  key,
  name: 'Say hello',
  trigger: { type: 'manual' },
  steps: [{ id: 'greet', type: 'transform', output: { greeting: 'hello {{ trigger.body.name }}' }, next: null }],
});

async function tenantWithToken(): Promise<{ account: Account; env: Record<string, string> }> {
  const account = await signup(baseUrl);
  return { account, env: { AUTOMATE_URL: baseUrl, AUTOMATE_TOKEN: await createToken(account) } };
}

it('has the example workflow file to import', () => {
  expect(examples.length).toBeGreaterThan(0);
});

describe.each(examples.map((file) => [path.relative(root, file), file]))(
  'import --file %s --publish',
  (_label, file) => {
    let account: Account;
    let env: Record<string, string>;
    beforeAll(async () => {
      ({ account, env } = await tenantWithToken());
      await provideSecrets(account, storedSecretKeys(JSON.parse(readFileSync(file, 'utf8'))));
    });

    it('creates the workflow and publishes version 1', async () => {
      const run = await runCli(['import', '--file', file, '--publish'], env);
      expect(run.output).toContain('✓ order_flow.json → order_flow (created, published v1)');
      expect(run.code).toBe(0);

      const { versions } = await ok(
        withToken(baseUrl, env.AUTOMATE_TOKEN).GET('/workflows/{key}/versions', {
          params: { path: { key: 'order_flow' } },
        }),
        200,
      );
      expect(versions.map(({ version, active }) => ({ version, active }))).toEqual([{ version: 1, active: true }]);
    });

    it('is idempotent: importing the same file again publishes nothing new', async () => {
      const run = await runCli(['import', '--file', file, '--publish'], env);
      expect(run.output).toContain('✓ order_flow.json → order_flow (updated, v1 already published)');
      expect(run.code).toBe(0);
    });

    it('exports the file unchanged', async () => {
      const exported = await ok(
        withToken(baseUrl, env.AUTOMATE_TOKEN).GET('/workflows/{key}/export', {
          params: { path: { key: 'order_flow' } },
          parseAs: 'text',
        }),
      );
      expect(JSON.parse(exported)).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });

    it('is visible to that tenant only', async () => {
      const other = await tenantWithToken();
      const { response, error } = await withToken(baseUrl, other.env.AUTOMATE_TOKEN).GET('/workflows/{key}', {
        params: { path: { key: 'order_flow' } },
      });
      expect(response.status).toBe(404);
      expect(error?.error.code).toBe('workflow_not_found');
    });
  },
);

describe('import errors', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ env } = await tenantWithToken());
  });

  it('--dir imports every good file, reports each bad one with its field, and exits non-zero', async () => {
    const dir = mkdtempSync(path.join(tmp, 'dir-'));
    writeFileSync(path.join(dir, 'a_hello.json'), JSON.stringify(hello('hello'), null, 2));
    writeFileSync(
      path.join(dir, 'b_bad.json'),
      JSON.stringify({ ...hello('bad'), steps: [{ id: 'x', type: 'teleport', next: null }] }),
    );
    writeFileSync(path.join(dir, 'notes.txt'), 'not a workflow');

    const run = await runCli(['import', '--dir', dir, '--publish'], env);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('✓ a_hello.json → hello (created, published v1)');
    expect(run.output).toMatch(/✗ b_bad\.json: steps\[0\]\.type: /);
    expect(run.output).not.toContain('notes.txt');
    expect(run.output.indexOf('a_hello.json')).toBeLessThan(run.output.indexOf('b_bad.json'));

    const { workflows } = await ok(withToken(baseUrl, env.AUTOMATE_TOKEN).GET('/workflows'));
    expect(workflows.map((w) => [w.key, w.activeVersion])).toEqual([['hello', 1]]);
  });

  it('names the invalid field of a file the API refuses', async () => {
    const wf = JSON.parse(readFileSync(example, 'utf8'));
    wf.steps[1].retry.maxAttempts = 0;
    const file = path.join(tmp, 'invalid.json');
    writeFileSync(file, JSON.stringify(wf));

    const run = await runCli(['import', '--file', file], env);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('✗ invalid.json: steps[1].retry.maxAttempts: ');
  });

  it('refuses a file that is not JSON without calling the API', async () => {
    const file = path.join(tmp, 'broken.json');
    writeFileSync(file, '{"key": "broken",');
    const run = await runCli(['import', '--file', file], env);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('✗ broken.json: invalid JSON');
  });

  it('says so when the file does not exist', async () => {
    const run = await runCli(['import', '--file', path.join(tmp, 'missing.json')], env);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('no such file');
  });

  it('explains a missing AUTOMATE_TOKEN', async () => {
    const run = await runCli(['import', '--file', example], { AUTOMATE_URL: baseUrl });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('AUTOMATE_TOKEN is not set');
  });

  it('reports a refused token with the server message', async () => {
    const run = await runCli(['import', '--file', example], {
      AUTOMATE_URL: baseUrl,
      AUTOMATE_TOKEN: 'atm_not_a_real_token',
    });
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/✗ order_flow\.json: unauthorized: Invalid or revoked API token \[request \S+\]/);
  });

  it('reports an unreachable server', async () => {
    const run = await runCli(['import', '--file', example], {
      AUTOMATE_URL: 'http://127.0.0.1:9',
      AUTOMATE_TOKEN: env.AUTOMATE_TOKEN,
    });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('cannot reach http://127.0.0.1:9');
  });
});
