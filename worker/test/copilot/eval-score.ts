/** Scores a draft against an evaluation case: trigger, steps in path order, the first condition's comparisons. */
export interface ExpectedCondition {
  var: string;
  op: string;
  value: unknown;
}

export interface EvalCase {
  split: string;
  prompt: string;
  base?: string;
  expect: {
    trigger: { type: string; scheme?: string; cron?: string };
    steps: string[];
    condition?: ExpectedCondition[];
  };
}

type AnyStep = Record<string, any>;

/** Steps along the paths from the first step, then before else, each step once. */
export function stepPath(wf: { steps: AnyStep[] }): string[] {
  const byId = new Map(wf.steps.map((s) => [s.id, s]));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string | null | undefined) => {
    if (!id || seen.has(id) || !byId.has(id)) return;
    seen.add(id);
    const s = byId.get(id)!;
    if (s.type === 'condition') {
      out.push('if');
      visit(s.then);
      visit(s.else);
    } else if (s.type === 'branch') {
      out.push('branch');
      for (const c of s.cases) visit(c.next);
      visit(s.default);
    } else {
      out.push(s.type === 'action' ? `${s.connector}.${s.action}` : s.type === 'delay' ? `delay:${s.delayMs}` : s.type);
      visit(s.next);
    }
  };
  visit(wf.steps[0]?.id);
  return out;
}

/** The comparisons of a JSONLogic rule joined by `and` (or a single one). */
export function comparisons(rule: unknown): ExpectedCondition[] {
  if (!rule || typeof rule !== 'object') return [];
  const [op, args] = Object.entries(rule as Record<string, unknown>)[0] ?? [];
  if (op === 'and' && Array.isArray(args)) return args.flatMap(comparisons);
  if (Array.isArray(args) && args[0] && typeof args[0] === 'object' && 'var' in args[0])
    return [{ var: String((args[0] as { var: unknown }).var), op, value: args[1] }];
  return [{ var: '?', op: String(op), value: args }];
}

export function score(c: EvalCase, wf: any): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  const t = wf.trigger ?? {};
  if (t.type !== c.expect.trigger.type) problems.push(`trigger ${t.type} != ${c.expect.trigger.type}`);
  if (c.expect.trigger.scheme && t.verify?.scheme !== c.expect.trigger.scheme)
    problems.push(`scheme ${t.verify?.scheme} != ${c.expect.trigger.scheme}`);
  if (c.expect.trigger.cron && t.cron !== c.expect.trigger.cron)
    problems.push(`cron ${t.cron} != ${c.expect.trigger.cron}`);
  const path = stepPath(wf);
  if (JSON.stringify(path) !== JSON.stringify(c.expect.steps))
    problems.push(`steps ${path.join(' > ')} != ${c.expect.steps.join(' > ')}`);
  if (c.expect.condition) {
    const cond = wf.steps.find((s: AnyStep) => s.type === 'condition');
    const got = cond ? comparisons(cond.rule) : [];
    const norm = (xs: ExpectedCondition[]) => JSON.stringify([...xs].map((x) => [x.var, x.op, x.value]).sort());
    if (norm(got) !== norm(c.expect.condition))
      problems.push(`condition ${JSON.stringify(got)} != ${JSON.stringify(c.expect.condition)}`);
  }
  return { ok: problems.length === 0, problems };
}
