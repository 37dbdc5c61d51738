/**
 * The editor's file drawn as xyflow nodes and edges, and problems (`details[].path` from
 * the API) sorted to the node and field they belong to.
 */
import { MarkerType, type Edge, type Node } from '@xyflow/svelte';
import { successorFields } from '../../../../worker/src/workflows/step-graph.ts';
import { layoutWorkflow, outcomeLabel, ROW_HEIGHT } from '../workflow-graph';
import { TRIGGER_NODE, type EditorFile } from './draft.svelte.ts';

export interface Problem {
  path: string;
  message: string;
}

export { outcomeLabel };

/** `steps[2].params.url` → the step's id and the field inside it (`params.url`); `trigger.verify` → the trigger. */
export function problemOwner(file: EditorFile, path: string): { node: string; field: string } | null {
  const m = /^steps\[(\d+)\]\.?(.*)$/.exec(path);
  if (m) {
    const step = file.steps[Number(m[1])];
    return step ? { node: step.id, field: m[2] } : null;
  }
  if (path === 'trigger' || path.startsWith('trigger.')) return { node: TRIGGER_NODE, field: path.slice(8) };
  return null;
}

export function problemsByNode(file: EditorFile, problems: Problem[]): Map<string, Problem[]> {
  const out = new Map<string, Problem[]>();
  for (const p of problems) {
    const owner = problemOwner(file, p.path);
    if (!owner) continue;
    out.set(owner.node, [...(out.get(owner.node) ?? []), { path: owner.field, message: p.message }]);
  }
  return out;
}

export interface CanvasMarks {
  problems?: Map<string, Problem[]>;
  /** A run's step statuses by step id. */
  status?: Map<string, string>;
  /** Steps that differ from the version compared with. */
  changed?: Set<string>;
  selected?: string | null;
}

export function canvasNodes(file: EditorFile, marks: CanvasMarks = {}): Node[] {
  const graph = layoutWorkflow(file as Parameters<typeof layoutWorkflow>[0]);
  const saved = file.ui?.nodes?.[TRIGGER_NODE];
  const first = graph.steps[0]?.position ?? { x: 0, y: 0 };
  const triggerAt = saved ?? { x: first.x, y: Math.min(...graph.steps.map((s) => s.position.y), 0) - ROW_HEIGHT };
  const problemsOf = (id: string) => (marks.problems?.get(id) ?? []).map((p) => `${p.path || id}: ${p.message}`);
  return [
    {
      id: TRIGGER_NODE,
      type: 'trigger',
      position: triggerAt,
      deletable: false,
      selected: marks.selected === TRIGGER_NODE,
      data: { trigger: file.trigger, problems: problemsOf(TRIGGER_NODE) },
    },
    ...graph.steps.map(({ step, position, start }) => ({
      id: step.id,
      type: 'step',
      position,
      selected: marks.selected === step.id,
      data: {
        step,
        start,
        problems: problemsOf(step.id),
        status: marks.status ? (marks.status.get(step.id) ?? 'not-reached') : undefined,
        changed: marks.changed?.has(step.id) ?? false,
      },
    })),
  ];
}

export function canvasEdges(file: EditorFile): Edge[] {
  const ids = new Set(file.steps.map((s) => s.id));
  const edges: Edge[] = [];
  if (file.steps[0])
    edges.push({
      id: `${TRIGGER_NODE}|start`,
      source: TRIGGER_NODE,
      sourceHandle: 'start',
      target: file.steps[0].id,
      deletable: false,
      markerEnd: { type: MarkerType.ArrowClosed },
    });
  for (const step of file.steps) {
    for (const [field, target] of successorFields(step)) {
      if (!target || !ids.has(target)) continue;
      edges.push({
        id: `${step.id}|${field}`,
        source: step.id,
        sourceHandle: field,
        target,
        label: outcomeLabel(step, field) || undefined,
        markerEnd: { type: MarkerType.ArrowClosed },
        class: field === 'else' || field === 'default' ? 'alt' : undefined,
      });
    }
  }
  return edges;
}

/** An edge id back to the outcome it stands for. */
export function edgeOutcome(edgeId: string): { source: string; field: string } {
  const at = edgeId.indexOf('|');
  return { source: edgeId.slice(0, at), field: edgeId.slice(at + 1) };
}
