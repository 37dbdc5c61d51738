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
