/**
 * Model providers against the stub model server (connectors/testing/stub-server.ts):
 * good JSON, malformed JSON, an unknown connector, a timeout; the key comes from a
 * secret reference and no secret value reaches the model.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { draftWorkflow } from '../../src/copilot/draft-service';
import type { AiBinding } from '../../src/copilot/workers-ai';
import { createDb } from '../../src/db/client';
import type { Env } from '../../src/env';
import { putSecrets, signup } from '../helpers/api';

/** STUB_MODEL_KEY of connectors/testing/stub-server.ts (Node code, not importable here). */
const STUB_MODEL_KEY = 'stub-model-key';
const SEED = 'When a high value order comes in, create it in the ERP and notify sales on Slack';

let nsCounter = 0;

/** A tenant with the model key stored as a secret, and its own stub model namespace. */
async function setup(extra: Partial<Env> = {}) {
  const owner = await signup(`Copilot Provider ${++nsCounter}`);
  await putSecrets(owner, { COPILOT_MODEL_KEY: STUB_MODEL_KEY, ERP_API_KEY: 'erp-value-never-sent-9f3k' });
  const ns = `t${nsCounter}-${crypto.randomUUID().slice(0, 6)}`;
  const config: Env = {
    ...(env as unknown as Env),
    COPILOT_PROVIDER: 'openai',
    COPILOT_OPENAI_BASE_URL: `${env.STUB_URL}/openai/${ns}/v1`,
    COPILOT_OPENAI_KEY_SECRET: 'COPILOT_MODEL_KEY',
    COPILOT_MODEL: 'stub-model',
    ...extra,
  };
  const script = (answers: { content: string; delayMs?: number; status?: number }[]) =>
    fetch(`${env.STUB_URL}/__control/completions`, { method: 'POST', body: JSON.stringify({ ns, answers }) });
  const requests = async () =>
    (await (await fetch(`${env.STUB_URL}/__control/requests?path=/openai/${ns}/v1/chat/completions`)).json()) as any[];
  const draft = (prompt = SEED, workflow?: any) =>
    draftWorkflow({ prompt, workflow }, { env: config, db: createDb(env.DB), tenant: owner.tenant });
  return { owner, script, requests, draft };
}

const modelWorkflow = {
  key: 'model_draft',
  name: 'Model draft',
  trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: 'SHOP_WEBHOOK_SECRET' } } },
  steps: [
    { id: 'big', type: 'condition', rule: { '>=': [{ var: 'trigger.body.total' }, 2500] }, then: 'erp', else: null },
    {
      id: 'erp',
      type: 'action',
      connector: 'legacy_erp',
      action: 'create_order',
      params: { customer_id: '{{ trigger.body.customer.id }}', items: '{{ trigger.body.items }}' },
      secrets: { API_KEY: { $secret: 'ERP_API_KEY' } },
      next: null,
    },
  ],
};

describe('OpenAI-compatible provider', () => {
  it('uses a good answer, sends the key only as the bearer token and no secret value in the prompt', async () => {
    const t = await setup();
    await t.script([{ content: JSON.stringify({ workflow: modelWorkflow, notes: ['Assumed 2500 is high value.'] }) }]);
    const out = await t.draft();
    expect(out.provider).toBe('openai');
    expect(out.outcome).toBe('ok');
    expect(out.workflow.steps.map((s) => s.id)).toEqual(['big', 'erp']);
    expect(out.notes).toContain('Assumed 2500 is high value.');
    expect(out.workflow.ui?.nodes).toBeTruthy();
    const [req] = await t.requests();
    expect(req.headers.authorization).toBe(`Bearer ${STUB_MODEL_KEY}`);
    expect(req.body.model).toBe('stub-model');
    const sent = JSON.stringify(req.body);
    // The catalog (with secret names) and the prompt go out; values never do.
    expect(sent).toContain('legacy_erp');
    expect(sent).toContain('high value order');
    expect(sent).not.toContain(STUB_MODEL_KEY);
    expect(sent).not.toContain('erp-value-never-sent-9f3k');
  });

  it('repairs what it can: unknown fields stripped, bad ids fixed, a step with an unknown connector dropped with a note', async () => {
    const t = await setup();
    const answer = {
      workflow: {
        ...modelWorkflow,
        colour: 'blue',
        steps: [
          { ...modelWorkflow.steps[0], then: 'crm step', confidence: 0.9 },
          { id: 'crm step', type: 'action', connector: 'salesforce', action: 'create_lead', params: {}, next: 'erp' },
          {
            ...modelWorkflow.steps[1],
            params: { ...modelWorkflow.steps[1].params, note: '{{ steps.nowhere.output.id }}' },
            secrets: { API_KEY: 'erp-plaintext-from-model' },
          },
        ],
      },
    };
    await t.script([{ content: `Here is your workflow:\n\`\`\`json\n${JSON.stringify(answer)}\n\`\`\`` }]);
    const out = await t.draft();
    expect(out.provider).toBe('openai');
    expect((out.workflow as any).colour).toBeUndefined();
    expect(out.workflow.steps.map((s) => s.id)).toEqual(['big', 'erp']);
    // The dropped step's predecessor now leads to what came after it.
    expect((out.workflow.steps[0] as any).then).toBe('erp');
    expect((out.workflow.steps[0] as any).confidence).toBeUndefined();
    expect(out.notes.some((n) => n.includes('no connector "salesforce"'))).toBe(true);
    // A value where a reference belongs is dropped, not kept.
    expect(JSON.stringify(out.workflow)).not.toContain('erp-plaintext-from-model');
    expect(out.notes.some((n) => n.includes('dropped secret "API_KEY"'))).toBe(true);
    // A template naming a step that is not upstream is refused at import: the param goes, with a note.
    expect((out.workflow.steps[1] as any).params).toEqual(modelWorkflow.steps[1].params);
    expect(out.notes.some((n) => n.includes('dropped param "note"'))).toBe(true);
  });

  it('falls back to the built-in draft on malformed JSON, an error status, and an answer with nothing usable', async () => {
    const t = await setup();
    await t.script([
      { content: '{"workflow": {"key": "x", "steps": [' },
      { content: '', status: 500 },
      {
        content: JSON.stringify({
          workflow: { ...modelWorkflow, steps: [{ id: 'x', type: 'action', connector: 'nope', action: 'nope' }] },
        }),
      },
    ]);
    const malformed = await t.draft();
    expect(malformed.provider).toBe('builtin');
    expect(malformed.outcome).toBe('fallback:bad_response');
    expect(malformed.notes[0]).toMatch(/malformed JSON.*built-in draft/);
    expect(malformed.workflow.steps.map((s) => s.type)).toEqual(['condition', 'action', 'action']);
    const failed = await t.draft();
    expect(failed.outcome).toBe('fallback:unavailable');
    expect(failed.notes[0]).toContain('HTTP 500');
    const useless = await t.draft();
    expect(useless.outcome).toBe('fallback:unrepairable');
    expect(useless.provider).toBe('builtin');
  });

  it('gives up on a model that does not answer in time', async () => {
    const t = await setup({ COPILOT_TIMEOUT_MS: '300' });
    await t.script([{ content: JSON.stringify({ workflow: modelWorkflow }), delayMs: 5000 }]);
    const started = Date.now();
    const out = await t.draft();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(out.provider).toBe('builtin');
    expect(out.outcome).toBe('fallback:timeout');
    expect(out.notes[0]).toContain('did not answer in time');
  });

  it('falls back when the key secret is missing or the configuration is incomplete, naming the secret only', async () => {
    const t = await setup({ COPILOT_OPENAI_KEY_SECRET: 'NOT_CREATED_KEY' });
    const out = await t.draft();
    expect(out.outcome).toBe('fallback:config');
    expect(out.notes[0]).toContain('NOT_CREATED_KEY');
    const noUrl = await setup({ COPILOT_OPENAI_BASE_URL: '' });
    const out2 = await noUrl.draft();
    expect(out2.provider).toBe('builtin');
    expect(out2.notes[0]).toContain('COPILOT_OPENAI_BASE_URL');
    expect(await noUrl.requests()).toEqual([]);
  });

  it('edits: the model gets the current draft and the sentence', async () => {
    const t = await setup();
    await t.script([{ content: JSON.stringify({ workflow: modelWorkflow }) }]);
    await t.draft('only for orders from Germany', modelWorkflow);
    const [req] = await t.requests();
    const user = req.body.messages.find((m: any) => m.role === 'user').content;
    expect(user).toContain('"key":"model_draft"');
    expect(user).toContain('only for orders from Germany');
  });
});

describe('Workers AI provider', () => {
  // The AI binding only exists deployed; these stand-ins answer like it does (`{response}`).
  const withAi = async (ai: AiBinding, extra: Partial<Env> = {}) => {
    const owner = await signup(`Copilot AI ${++nsCounter}`);
    const config: Env = { ...(env as unknown as Env), COPILOT_PROVIDER: 'workers-ai', AI: ai, ...extra };
    return draftWorkflow({ prompt: SEED }, { env: config, db: createDb(env.DB), tenant: owner.tenant });
  };

  it('uses a JSON answer (object or string) and asks for JSON output', async () => {
    let inputs: any;
    const out = await withAi({
      async run(_model, i) {
        inputs = i;
        return { response: { workflow: modelWorkflow, notes: ['from the model'] } };
      },
    });
    expect(out.provider).toBe('workers-ai');
    expect(out.workflow.key).toBe('model_draft');
    expect(inputs.response_format.type).toBe('json_schema');
    const asText = await withAi({ run: async () => ({ response: JSON.stringify({ workflow: modelWorkflow }) }) });
    expect(asText.provider).toBe('workers-ai');
  });

  it('falls back on a timeout, an error, and without the binding', async () => {
    const slow = await withAi(
      { run: () => new Promise((r) => setTimeout(() => r({ response: {} }), 5000)) },
      { COPILOT_TIMEOUT_MS: '200' },
    );
    expect(slow.outcome).toBe('fallback:timeout');
    const broken = await withAi({ run: async () => Promise.reject(new Error('3040: capacity')) });
    expect(broken.outcome).toBe('fallback:unavailable');
    const none = await withAi(undefined as unknown as AiBinding);
    expect(none.provider).toBe('builtin');
    expect(none.notes[0]).toContain('AI binding');
  });
});
