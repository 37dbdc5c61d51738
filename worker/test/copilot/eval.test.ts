/**
 * The copilot's evaluation set (eval-set.json) through the real route: each prompt is
 * drafted by the built-in provider, scored, and imported. Prints the score per split.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client';
import { connectorReferencesCheck } from '../../src/workflows/connector-check';
import { Workflow } from '../../src/workflows/workflow-file';
import { call, createToken, signup } from '../helpers/api';
import { registerCustomConnectors } from './custom-connectors';
import set from './eval-set.json';
import { type EvalCase, score } from './eval-score';

registerCustomConnectors();
const cases = set.cases as EvalCase[];
const bases = set.bases as Record<string, unknown>;

describe('copilot evaluation set', () => {
  it('has at least 40 varied prompts, half held out', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.filter((c) => c.split !== 'dev').length).toBeGreaterThanOrEqual(cases.length / 2);
    // Every base an edit case names is itself a valid workflow.
    for (const b of Object.values(bases)) expect(Workflow.safeParse(b).success).toBe(true);
  });

  it('drafts at least 85% fully right with the built-in provider, and every draft imports', async () => {
    const results: { c: EvalCase; ok: boolean; problems: string[] }[] = [];
    let token = '';
    const check = connectorReferencesCheck();
    for (const [i, c] of cases.entries()) {
      // A fresh workspace every 15 drafts keeps the run under the per-tenant rate limit.
      if (i % 15 === 0) token = await createToken(await signup(`Eval ${i}`), ['workflows:read', 'workflows:write']);
      const body = { prompt: c.prompt, ...(c.base ? { workflow: bases[c.base] } : {}) };
      const res = await call('POST', '/api/copilot/draft', { token, body });
      expect(res.status, `${c.prompt}: ${res.text}`).toBe(200);
      expect(res.json.provider).toBe('builtin');
      const wf = res.json.workflow;
      const imported = await call('POST', '/api/workflows/import', { token, body: wf });
      expect([200, 201], `import of the draft for "${c.prompt}": ${imported.text}`).toContain(imported.status);
      expect(await check(createDb(env.DB), '', Workflow.parse(wf)), c.prompt).toEqual([]);
      results.push({ c, ...score(c, wf) });
    }
    const line = (split: string) => {
      const xs = results.filter((r) => split === 'all' || r.c.split === split);
      const ok = xs.filter((r) => r.ok).length;
      return { ok, n: xs.length, pct: Math.round((1000 * ok) / xs.length) / 10 };
    };
    for (const r of results.filter((x) => !x.ok))
      console.log(`copilot eval MISS: "${r.c.prompt}"\n  ${r.problems.join('\n  ')}`);
    const all = line('all');
    const splits = [...new Set(cases.map((c) => c.split))].map((s) => `${s} ${line(s).ok}/${line(s).n}`).join(', ');
    console.log(`copilot eval (builtin): ${all.ok}/${all.n} = ${all.pct}% fully right (${splits})`);
    expect(all.pct).toBeGreaterThanOrEqual(85);
  }, 120_000);
});
