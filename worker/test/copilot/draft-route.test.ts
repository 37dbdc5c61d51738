/** POST /api/copilot/draft: the seed sentence, edits, access, bad input, rate limit, audit. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAFTS_PER_MINUTE } from '../../src/copilot/rate-limit';
import { addMember, call, createToken, putSecrets, signup } from '../helpers/api';

const SEED = 'When a high value order comes in, create it in the ERP and notify sales on Slack';

describe('copilot draft', () => {
  it('drafts the seed sentence: valid, catalog-only, secret references, JSONLogic, left-to-right layout, notes', async () => {
    const owner = await signup('Copilot Seed');
    // One of the secrets exists already: the notes say so instead of asking to create it.
    await putSecrets(owner, { SLACK_BOT_TOKEN: 'xoxb-test-token' });
    const res = await call('POST', '/api/copilot/draft', { session: owner, body: { prompt: SEED } });
    expect(res.status).toBe(200);
    const { workflow: wf, notes, provider } = res.json;
    expect(provider).toBe('builtin');
    expect(wf.trigger).toEqual({
      type: 'webhook',
      verify: { scheme: 'standard-webhooks', secret: { $secret: 'WEBHOOK_SECRET' } },
    });
    expect(wf.steps.map((s: any) => s.type)).toEqual(['condition', 'action', 'action']);
    const [cond, erp, slack] = wf.steps;
    expect(cond.rule).toEqual({ '>=': [{ var: 'trigger.body.total' }, 1000] });
    expect(cond.then).toBe(erp.id);
    expect(cond.else).toBeNull();
    expect([erp.connector, erp.action, erp.next]).toEqual(['legacy_erp', 'create_order', slack.id]);
    expect(erp.params).toEqual({ customer_id: '{{ trigger.body.customer.id }}', items: '{{ trigger.body.items }}' });
    expect(erp.secrets).toEqual({ API_KEY: { $secret: 'ERP_API_KEY' } });
    expect([slack.connector, slack.action, slack.params.channel]).toEqual(['slack', 'post_message', '#sales']);
    expect(slack.secrets).toEqual({ SLACK_BOT_TOKEN: { $secret: 'SLACK_BOT_TOKEN' } });
    // Left to right: each step one column right of the one before, on one row.
    const xs = wf.steps.map((s: any) => wf.ui.nodes[s.id].x);
    expect(xs[0]).toBeLessThan(xs[1]);
    expect(xs[1]).toBeLessThan(xs[2]);
    expect(new Set(wf.steps.map((s: any) => wf.ui.nodes[s.id].y)).size).toBe(1);
    expect(notes).toContain('Create the secret ERP_API_KEY (Settings → Secrets) before publishing.');
    expect(notes).toContain('Create the secret WEBHOOK_SECRET (Settings → Secrets) before publishing.');
    expect(notes).toContain('Uses your existing secret SLACK_BOT_TOKEN.');
    expect(notes.some((n: string) => n.includes('confirm 1000 as the high-value threshold'))).toBe(true);
    expect(res.text).not.toContain('xoxb-test-token');
    // Nothing was saved.
    expect((await call('GET', '/api/workflows', { session: owner })).json.workflows).toEqual([]);
    // The draft imports as is.
    const imported = await call('POST', '/api/workflows/import', { session: owner, body: wf });
    expect(imported.status).toBe(201);
  });

  it('edits a given draft instead of starting over', async () => {
    const owner = await signup('Copilot Edit');
    const first = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: 'when an order comes in create it in the erp' },
    });
    const draft = first.json.workflow;
    const guarded = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: 'only for orders from Germany', workflow: draft },
    });
    expect(guarded.status).toBe(200);
    const g = guarded.json.workflow;
    expect(g.key).toBe(draft.key);
    expect(g.steps[0].type).toBe('condition');
    expect(g.steps[0].rule).toEqual({ '==': [{ var: 'trigger.body.country' }, 'DE'] });
    expect(g.steps[0].then).toBe(draft.steps[0].id);

    const more = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: 'also notify #sales on slack', workflow: g },
    });
    const m = more.json.workflow;
    expect(m.steps.map((s: any) => s.connector ?? s.type)).toEqual(['condition', 'legacy_erp', 'slack']);
    expect(m.steps[1].next).toBe(m.steps[2].id);
    expect(m.ui.nodes[m.steps[2].id].x).toBeGreaterThan(m.ui.nodes[m.steps[1].id].x);

    const fewer = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: "don't notify slack after all", workflow: m },
    });
    expect(fewer.json.workflow.steps.map((s: any) => s.connector ?? s.type)).toEqual(['condition', 'legacy_erp']);
    expect(fewer.json.workflow.steps[1].next ?? null).toBeNull();
  });

  it('needs the editor role or workflows:write', async () => {
    const owner = await signup('Copilot Access');
    const body = { prompt: SEED };
    expect((await call('POST', '/api/copilot/draft', { body })).status).toBe(401);
    const viewer = await addMember(owner, 'viewer');
    const denied = await call('POST', '/api/copilot/draft', { session: viewer, body });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('forbidden');
    const readOnly = await createToken(owner, ['workflows:read']);
    expect((await call('POST', '/api/copilot/draft', { token: readOnly, body })).status).toBe(403);
    const editor = await addMember(owner, 'editor');
    expect((await call('POST', '/api/copilot/draft', { session: editor, body })).status).toBe(200);
    const writer = await createToken(owner, ['workflows:write']);
    expect((await call('POST', '/api/copilot/draft', { token: writer, body })).status).toBe(200);
  });

  it('answers bad input with 400 naming the field', async () => {
    const owner = await signup('Copilot Bad');
    const bad = async (body: unknown, path: string, code = 'invalid_request') => {
      const res = await call('POST', '/api/copilot/draft', { session: owner, body });
      expect(res.status, res.text).toBe(400);
      expect(res.json.error.code).toBe(code);
      expect(res.json.error.requestId).toBeTruthy();
      expect(res.json.error.details.map((d: any) => d.path)).toContain(path);
      return res;
    };
    await bad({}, 'prompt');
    await bad({ prompt: 'x'.repeat(2001) }, 'prompt');
    await bad({ prompt: 42 }, 'prompt');
    await bad({ prompt: SEED, extra: true }, 'extra');
    await bad(
      { prompt: SEED, workflow: { key: 'x', name: 'x', trigger: { type: 'api' }, steps: [] } },
      'workflow.steps',
    );
    const leaked = await bad(
      { prompt: 'post to slack with token xoxb-1234567890-abcdefghijkl' },
      'prompt',
      'hardcoded_credential',
    );
    expect(leaked.text).not.toContain('xoxb-1234567890');
    const wfWithValue = {
      key: 'k',
      name: 'k',
      trigger: { type: 'api' },
      steps: [
        {
          id: 'a',
          type: 'action',
          connector: 'http',
          action: 'request',
          params: { url: 'https://x.example', headers: { Authorization: 'Bearer sk_live_abcdefghijklmnop1234' } },
        },
      ],
    };
    const refused = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: 'also notify slack', workflow: wfWithValue },
    });
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain('sk_live_abcdefghijklmnop1234');
    const raw = await call('POST', '/api/copilot/draft', { session: owner, rawBody: '{"prompt": ' });
    expect(raw.status).toBe(400);
  });

  it('limits drafts per tenant with 429 and Retry-After, and audits each draft without its output', async () => {
    const a = await signup('Copilot Limit A');
    const b = await signup('Copilot Limit B');
    for (let i = 0; i < DEFAULT_DRAFTS_PER_MINUTE; i++) {
      const ok = await call('POST', '/api/copilot/draft', {
        session: a,
        body: { prompt: `every ${i + 1} minutes call https://example.com/x` },
      });
      expect(ok.status).toBe(200);
    }
    const limited = await call('POST', '/api/copilot/draft', { session: a, body: { prompt: SEED } });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(limited.json.error.requestId).toBeTruthy();
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // Another tenant is not affected.
    expect((await call('POST', '/api/copilot/draft', { session: b, body: { prompt: SEED } })).status).toBe(200);

    const audit = await call('GET', '/api/audit?action=copilot.draft', { session: b });
    expect(audit.status).toBe(200);
    expect(audit.json.entries).toHaveLength(1);
    const entry = audit.json.entries[0];
    expect(entry.context).toEqual({ prompt: SEED, provider: 'builtin', outcome: 'ok', edit: false });
    expect(JSON.stringify(entry)).not.toContain('legacy_erp');
    const auditA = await call('GET', '/api/audit?action=copilot.draft', { session: a });
    expect(auditA.json.entries).toHaveLength(DEFAULT_DRAFTS_PER_MINUTE);
  });

  it('drafts a connector the moment it is registered', async () => {
    const { register, ActionSpec, ConnectorAdapter } = await import('../../../connectors');
    const { z } = await import('zod');
    class Pager extends ConnectorAdapter {
      readonly code = 'pager_duty_lite';
      readonly name = 'PagerLite';
      readonly description = 'Page the on-call engineer.';
      readonly actions = {
        trigger_incident: ActionSpec({
          description: 'Open an incident that pages whoever is on call.',
          inputs: z.object({ summary: z.string(), severity: z.enum(['critical', 'warning']) }),
          outputs: z.object({ incident_id: z.string() }),
        }),
      };
      async execute(): Promise<never> {
        throw new Error('unused');
      }
    }
    const owner = await signup('Copilot Custom');
    const before = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: 'when a payment fails, page the on-call engineer with pagerlite' },
    });
    expect(before.json.workflow.steps.some((s: any) => s.connector === 'pager_duty_lite')).toBe(false);
    register(Pager);
    const after = await call('POST', '/api/copilot/draft', {
      session: owner,
      body: { prompt: 'when a payment fails, page the on-call engineer with pagerlite' },
    });
    const step = after.json.workflow.steps.find((s: any) => s.connector === 'pager_duty_lite');
    expect(step).toMatchObject({ action: 'trigger_incident', params: { severity: 'critical' } });
    expect(typeof step.params.summary).toBe('string');
  });
});
