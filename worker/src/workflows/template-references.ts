/**
 * Templates that can never resolve are refused when a workflow file is imported, saved or
 * published (docs/workflow-file.md, "Templates"). At run time a path that finds nothing
 * renders as `null`, which is right for absent data (`trigger.body.coupon` on an order
 * without one) but hides a typo or a step that cannot have run yet until someone reads
 * the Explorer. What is decided here is only what the file alone can tell:
 *
 * - the root is one of `trigger`, `steps`, `vars`, `run`, `secrets`;
 * - `steps.<id>` names a step of the file that is upstream of the step using it: an
 *   ancestor in the step graph, so some path through the workflow runs it first. A step on
 *   another branch, a later step, or the step itself never is;
 * - `steps.<id>.<field>` reads `output`, `trigger.<field>` one of the event's fields,
 *   `run.<field>` one of the run's, `vars.<name>` a declared var;
 * - `secrets.<NAME>` appears only in an action's `params` (the existing declaration check
 *   in workflow-file.ts covers which names); nothing else receives secrets.
 *
 * Anything below those levels is data and stays `null` when absent.
 */
import type { z } from 'zod';
import { pathKeys, templatePaths } from '../run/templates';
import { stepExits } from './step-graph';
import type { Step } from './workflow-file';

type Path = (string | number)[];
type Issue = { path: Path; message: string };
interface Refs {
  path: Path;
  /** The template's or `var`'s path, e.g. `steps.erp.output.id`. */
  ref: string;
}

/** What a rendered step's scope holds (run-state.ts `scopeOf`, start-run.ts trigger event). */
const TRIGGER_FIELDS = new Set(['type', 'body', 'headers', 'query']);
const RUN_FIELDS = new Set(['id', 'workflow', 'version', 'startedAt']);
const ROOTS = 'trigger, steps, vars, run or secrets';
/** JSONLogic operations whose second argument is evaluated against each item, not the run's data. */
const ITEM_SCOPED = new Set(['map', 'filter', 'all', 'none', 'some', 'reduce']);

function* stringsIn(value: unknown, path: Path): Generator<[Path, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, [...path, i]);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...path, k]);
}

function templatesIn(value: unknown, path: Path): Refs[] {
  const out: Refs[] = [];
  for (const [p, text] of stringsIn(value, path)) for (const ref of templatePaths(text)) out.push({ path: p, ref });
  return out;
}

/**
 * `{"var": "a.b"}` / `{"var": ["a.b", default]}` paths a JSONLogic rule reads from the
 * run's data. Only single-key objects are operations (json-logic-js reads any other
 * object as a literal); inside `map`/`filter`/`all`/`none`/`some`/`reduce` the second
 * argument reads the current item, so its vars are not the run's.
 */
function ruleVars(rule: unknown, path: Path, out: Refs[] = []): Refs[] {
  if (Array.isArray(rule)) {
    for (const [i, v] of rule.entries()) ruleVars(v, [...path, i], out);
    return out;
  }
  if (!rule || typeof rule !== 'object') return out;
  const keys = Object.keys(rule);
  if (keys.length !== 1) return out;
  const op = keys[0];
  const args = (rule as Record<string, unknown>)[op];
  const at = [...path, op];
  if (op === 'var') {
    const [first, firstPath] = Array.isArray(args) ? [args[0], [...at, 0]] : [args, at];
    if (typeof first === 'string' && first !== '') out.push({ path: firstPath, ref: first });
    else ruleVars(first, firstPath, out);
    return out;
  }
  if (ITEM_SCOPED.has(op) && Array.isArray(args)) {
    args.forEach((a, i) => {
      if (i !== 1) ruleVars(a, [...at, i], out);
    });
    return out;
  }
  return ruleVars(args, at, out);
}

/** Every template or rule path a step reads, with where it is written. */
function referencesOf(step: Step, at: Path): { refs: Refs[]; inParams: Refs[] } {
  switch (step.type) {
    case 'action':
      return { refs: [], inParams: templatesIn(step.params ?? {}, [...at, 'params']) };
    case 'transform':
      return { refs: templatesIn(step.output, [...at, 'output']), inParams: [] };
    case 'branch':
      return {
        refs: [
          ...templatesIn(step.value, [...at, 'value']),
          ...step.cases.flatMap((c, i) => templatesIn(c.equals, [...at, 'cases', i, 'equals'])),
        ],
        inParams: [],
      };
    case 'delay':
      return { refs: step.until === undefined ? [] : templatesIn(step.until, [...at, 'until']), inParams: [] };
    case 'condition':
      return { refs: ruleVars(step.rule, [...at, 'rule']), inParams: [] };
  }
}

/** The ids of every step from which a step can be reached, computed on first use per step. */
function ancestorsOf(steps: Step[]): (id: string) => Set<string> {
  const parents = new Map<string, Set<string>>(steps.map((s) => [s.id, new Set()]));
  for (const s of steps)
    for (const { target } of stepExits(s)) if (target && parents.has(target)) parents.get(target)!.add(s.id);
  const memo = new Map<string, Set<string>>();
  return (id) => {
    let seen = memo.get(id);
    if (seen) return seen;
    seen = new Set<string>();
    // Iterative, so a 200-step chain cannot exhaust the stack; a loop (refused elsewhere) just stops.
    const stack = [...(parents.get(id) ?? [])];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...(parents.get(p) ?? []));
    }
    memo.set(id, seen);
    return seen;
  };
}

function problem(
  ref: string,
  ctx: {
    stepId: string;
    ids: Set<string>;
    upstream: (id: string) => Set<string>;
    vars: Set<string>;
    inParams: boolean;
  },
): string | null {
  const keys = pathKeys(ref);
  const [root, first, second] = keys;
  switch (root) {
    case 'trigger':
      return first === undefined || TRIGGER_FIELDS.has(first)
        ? null
        : `"${ref}" can never resolve: the trigger has body, headers, query and type, not "${first}"`;
    case 'run':
      if (first === undefined) return null;
      if (!RUN_FIELDS.has(first))
        return `"${ref}" can never resolve: run has id, workflow, version and startedAt, not "${first}"`;
      return keys.length > 2 ? `"${ref}" can never resolve: run.${first} is a single value` : null;
    case 'vars':
      return first === undefined || ctx.vars.has(first)
        ? null
        : `"${ref}" can never resolve: no var "${first}" is declared under "vars"`;
    case 'secrets':
      if (!ctx.inParams)
        return `"${ref}": secrets reach only an action step's params, through its "secrets" declaration`;
      return keys.length === 2 ? null : `"${ref}": write secrets as secrets.<NAME>, with nothing after the name`;
    case 'steps':
      if (first === undefined) return null;
      if (!ctx.ids.has(first)) return `"${ref}" names step "${first}", which does not exist in this workflow`;
      if (first === ctx.stepId) return `"${ref}" reads step "${first}" from inside itself: it has no output yet`;
      if (!ctx.upstream(ctx.stepId).has(first))
        return `"${ref}" reads step "${first}", which cannot run before step "${ctx.stepId}" (it is not upstream of it: a later step or another branch), so it would always be null`;
      return second === undefined || second === 'output'
        ? null
        : `"${ref}" can never resolve: a step exposes "output", not "${second}"`;
    default:
      return `"${ref}" can never resolve: templates read ${ROOTS}, not "${root}"`;
  }
}

/** Issues for every template or rule path in the file that can never resolve. */
export function templateReferenceIssues(wf: { steps: Step[]; vars?: Record<string, unknown> }): Issue[] {
  const ids = new Set(wf.steps.map((s) => s.id));
  const upstream = ancestorsOf(wf.steps);
  const vars = new Set(Object.keys(wf.vars ?? {}));
  const issues: Issue[] = [];
  wf.steps.forEach((step, i) => {
    const { refs, inParams } = referencesOf(step, ['steps', i]);
    const base = { stepId: step.id, ids, upstream, vars };
    for (const [list, inP] of [
      [refs, false],
      [inParams, true],
    ] as const) {
      for (const r of list) {
        const message = problem(r.ref, { ...base, inParams: inP });
        if (message) issues.push({ path: r.path, message });
      }
    }
  });
  return issues;
}

/** The Workflow schema's refinement: adds each issue at its field's path. */
export function checkTemplateReferences(
  wf: { steps: Step[]; vars?: Record<string, unknown> },
  ctx: z.RefinementCtx,
): void {
  for (const issue of templateReferenceIssues(wf)) ctx.addIssue({ code: 'custom', ...issue });
}
