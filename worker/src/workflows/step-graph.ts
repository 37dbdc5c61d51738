/**
 * Where a step can go next, derived in one place for the worker (reference and loop checks
 * in workflow-file.ts) and the studio's canvas (studio/src/lib/workflow-graph.ts imports this
 * file). No imports, so the studio bundles it as is; it accepts steps still being edited
 * (a branch without `cases`), so the canvas can draw what the server would refuse.
 */
type Target = string | null | undefined;

/** The fields of a step that name its successors; a step's other fields are ignored. */
export interface LinkedStep {
  type: string;
  next?: Target;
  then?: Target;
  else?: Target;
  cases?: readonly { equals?: unknown; next?: Target }[];
  default?: Target;
}

export interface StepExit {
  /** The field holding the link, as a path below the step: `['then']`, `['cases', 2, 'next']`. */
  field: (string | number)[];
  /** For a branch's case: which one (its `equals` labels the link on the canvas). */
  caseIndex?: number;
  /** The step it leads to; `null` or absent where the path ends. */
  target: Target;
}

/** The steps a step can lead to (`null`/absent where a path ends), in field order. */
export function successors(step: LinkedStep): Target[] {
  return stepExits(step).map((exit) => exit.target);
}

export function stepExits(step: LinkedStep): StepExit[] {
  switch (step.type) {
    case 'condition':
      return [
        { field: ['then'], target: step.then },
        { field: ['else'], target: step.else },
      ];
    case 'branch':
      return [
        ...(Array.isArray(step.cases) ? step.cases : []).map(
          (c, i): StepExit => ({ field: ['cases', i, 'next'], target: c?.next, caseIndex: i }),
        ),
        { field: ['default'], target: step.default },
      ];
    default:
      return [{ field: ['next'], target: step.next }];
  }
}

/**
 * Each exit as `[field, target]` with the field written as a string (`next`, `then`,
 * `cases[1].next`, `default`): the studio's canvas uses these as handle and edge ids.
 */
export function successorFields(step: LinkedStep): [string, Target][] {
  return stepExits(step).map((exit) => [
    exit.field.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join(''),
    exit.target,
  ]);
}

/** `cases[1].next` → ['cases', 1, 'next'] */
export function fieldPath(field: string): (string | number)[] {
  return field
    .split(/\.|\[|\]/)
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** A copy of `step` with the exit `field` (one of its `successorFields`) leading to `target`. */
export function withSuccessor<S extends LinkedStep>(step: S, field: string, target: string | null): S {
  const path = fieldPath(field);
  if (path[0] === 'cases' && typeof path[1] === 'number') {
    const cases = [...(step.cases ?? [])];
    cases[path[1]] = { ...cases[path[1]], next: target };
    return { ...step, cases };
  }
  return { ...step, [field]: target };
}

/** A copy of `step` with every exit that led to `target` cleared (the step was deleted). */
export function withoutSuccessor<S extends LinkedStep>(step: S, target: string): S {
  let out = step;
  for (const [field, to] of successorFields(step)) if (to === target) out = withSuccessor(out, field, null);
  return out;
}

/**
 * The indexes of the steps no path from the first step (`steps[0]`, where runs start) reaches,
 * in file order. Links to steps that do not exist are ignored (the schema reports those).
 */
export function unreachableSteps(steps: readonly (LinkedStep & { id: string })[]): number[] {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const seen = new Set<number>();
  const todo = steps.length ? [0] : [];
  while (todo.length) {
    const i = todo.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    for (const target of successors(steps[i])) {
      const j = target ? index.get(target) : undefined;
      if (j !== undefined && !seen.has(j)) todo.push(j);
    }
  }
  return steps.map((_, i) => i).filter((i) => !seen.has(i));
}
