/**
 * A workflow's steps as a graph for the canvas: one node per step, one edge per
 * `next` / `then` / `else` / `cases[].next` / `default` link. Positions come from the
 * file's `ui.nodes[stepId]` when present, else from a top-down layering (a step sits one
 * row below the deepest step that leads to it; workflows may not loop, so depth is finite).
 */
// The worker's own derivation of successors, so the canvas draws exactly the links the server checks.
import { fieldPath, type StepExit, stepExits } from '../../../worker/src/workflows/step-graph';
import type { DraftStep, DraftFile } from './api';

export interface StepLink {
  source: string;
  target: string;
  /** `then`, `else`, `= "US"`, `default`; empty for a plain `next`. */
  label: string;
}

export interface PlacedStep {
  step: DraftStep;
  position: { x: number; y: number };
  /** The first step: where runs start. */
  start: boolean;
}

export const COLUMN_WIDTH = 240;
export const ROW_HEIGHT = 130;

export function stepLinks(step: DraftStep): StepLink[] {
  return stepExits(step)
    .filter((exit): exit is StepExit & { target: string } => typeof exit.target === 'string' && exit.target !== '')
    .map((exit) => ({ source: step.id, target: exit.target, label: linkLabel(step, exit) }));
}

/** `then`, `else`, `default`, `= "US"` for a branch's case; nothing for a plain `next`. */
function linkLabel(step: DraftStep, exit: StepExit): string {
  if (exit.caseIndex !== undefined) return `= ${JSON.stringify(step.cases?.[exit.caseIndex]?.equals)}`;
  return exit.field[0] === 'next' ? '' : String(exit.field[0]);
}

/** The label of the exit `field` (`then`, `cases[1].next`, ...): the editor's handles and edges. */
export function outcomeLabel(step: DraftStep, field: string): string {
  const path = fieldPath(field);
  const caseIndex = path[0] === 'cases' && typeof path[1] === 'number' ? path[1] : undefined;
  return linkLabel(step, { field: path, caseIndex, target: null });
}

/** Depth of each step: 0 for steps nothing leads to, else one more than its deepest predecessor. */
function depths(steps: DraftStep[], links: StepLink[]): Map<string, number> {
  const ids = new Set(steps.map((s) => s.id));
  const preds = new Map<string, string[]>(steps.map((s) => [s.id, []]));
  for (const l of links) if (ids.has(l.target)) preds.get(l.target)!.push(l.source);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    // A loop (the server refuses them, but the editor may hold one): cut it here.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...preds.get(id)!.map(visit)) + 1;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const s of steps) visit(s.id);
  return depth;
}

export function layoutWorkflow(wf: Pick<DraftFile, 'steps' | 'ui'>): { steps: PlacedStep[]; links: StepLink[] } {
  const steps = wf.steps.filter((s) => s && typeof s.id === 'string');
  const links = steps.flatMap(stepLinks).filter((l) => steps.some((s) => s.id === l.target));
  const depth = depths(steps, links);
  const rows = new Map<number, string[]>();
  for (const s of steps) {
    const d = depth.get(s.id)!;
    rows.set(d, [...(rows.get(d) ?? []), s.id]);
  }
  const saved = wf.ui?.nodes ?? {};
  return {
    links,
    steps: steps.map((step, i) => {
      const pos = saved[step.id];
      if (pos && Number.isFinite(pos.x) && Number.isFinite(pos.y))
        return { step, position: { x: pos.x, y: pos.y }, start: i === 0 };
      const d = depth.get(step.id)!;
      const row = rows.get(d)!;
      return {
        step,
        position: { x: (row.indexOf(step.id) - (row.length - 1) / 2) * COLUMN_WIDTH, y: d * ROW_HEIGHT },
        start: i === 0,
      };
    }),
  };
}

/** One line that says what a step does, for its node. */
export function stepSummary(step: DraftStep): string {
  switch (step.type) {
    case 'action':
      return `${step.connector ?? '?'}.${step.action ?? '?'}`;
    case 'condition':
      return 'if rule passes';
    case 'branch':
      return `by ${typeof step.value === 'string' ? step.value : JSON.stringify(step.value)}`;
    case 'delay':
      return typeof step.delayMs === 'number' ? `wait ${step.delayMs} ms` : `until ${String(step.until ?? '?')}`;
    case 'transform':
      return 'build output';
    default:
      return step.type;
  }
}

/** Narrows an editor's parsed JSON to something the canvas can draw. */
export function drawable(value: unknown): Pick<DraftFile, 'steps' | 'ui'> | null {
  const wf = value as DraftFile | null;
  if (!wf || typeof wf !== 'object' || !Array.isArray(wf.steps)) return null;
  return {
    steps: wf.steps.filter((s) => s && typeof s === 'object' && typeof s.id === 'string'),
    ui: wf.ui && typeof wf.ui === 'object' ? wf.ui : undefined,
  };
}
