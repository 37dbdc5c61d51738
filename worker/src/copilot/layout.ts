/**
 * Left-to-right layout for the studio canvas, written to `ui.nodes[stepId] = {x, y}`
 * (what studio/src/lib/workflow-graph.ts reads). A step sits one column right of the
 * deepest step leading to it; an `else` (or a later case) opens a new row below.
 */
import { successors, type Workflow } from '../workflows/workflow-file';

export const COLUMN_WIDTH = 280;
export const ROW_HEIGHT = 140;

export function layoutLeftToRight(wf: Workflow): Workflow {
  const byId = new Map(wf.steps.map((s) => [s.id, s]));
  const col = new Map<string, number>();
  const row = new Map<string, number>();
  let rows = 0;
  // Longest path from the first step gives the column, so joins sit right of both branches.
  const depth = (id: string, seen: Set<string>): number => {
    const known = col.get(id);
    if (known !== undefined) return known;
    return seen.has(id) ? 0 : -1;
  };
  const order: string[] = [];
  const visit = (id: string, c: number, r: number, seen: Set<string>) => {
    const step = byId.get(id);
    if (!step || seen.has(id)) return;
    if ((depth(id, seen) ?? -1) >= c) return;
    col.set(id, c);
    if (!row.has(id)) row.set(id, r);
    if (!order.includes(id)) order.push(id);
    const next = new Set(seen).add(id);
    successors(step).forEach((target, i) => {
      if (!target) return;
      const targetRow = i === 0 ? (row.get(id) ?? r) : (row.get(target) ?? ++rows);
      visit(target, c + 1, targetRow, next);
    });
  };
  wf.steps.forEach((s, i) => {
    if (!col.has(s.id)) visit(s.id, i === 0 ? 0 : 0, i === 0 ? 0 : ++rows, new Set());
  });
  const nodes: Record<string, { x: number; y: number }> = {};
  for (const s of wf.steps)
    nodes[s.id] = { x: (col.get(s.id) ?? 0) * COLUMN_WIDTH, y: (row.get(s.id) ?? 0) * ROW_HEIGHT };
  return { ...wf, ui: { ...(wf.ui ?? {}), nodes } };
}
