/**
 * Left-to-right layout for the studio canvas, written to `ui.nodes[stepId] = {x, y}`
 * (what studio/src/lib/workflow-graph.ts reads). A step sits one column right of the
 * deepest step leading to it, so a join sits right of both paths; a step's first
 * successor stays on its row, an `else` (or a later case) opens a new row below.
 */
import { successors } from '../workflows/step-graph';
import type { Workflow } from '../workflows/workflow-file';

export const COLUMN_WIDTH = 280;
export const ROW_HEIGHT = 140;

export function layoutLeftToRight(wf: Workflow): Workflow {
  const byId = new Map(wf.steps.map((s) => [s.id, s]));
  const next = (id: string) => successors(byId.get(id)!).filter((t): t is string => !!t && byId.has(t));
  const preds = new Map<string, string[]>(wf.steps.map((s) => [s.id, []]));
  for (const s of wf.steps) for (const t of next(s.id)) preds.get(t)!.push(s.id);

  // Workflows may not loop (the schema refuses it), so the longest path is finite.
  const col = new Map<string, number>();
  const column = (id: string): number => {
    const known = col.get(id);
    if (known !== undefined) return known;
    col.set(id, 0);
    const c = Math.max(-1, ...preds.get(id)!.map(column)) + 1;
    col.set(id, c);
    return c;
  };
  for (const s of wf.steps) column(s.id);

  const row = new Map<string, number>();
  let rows = 0;
  const place = (id: string, r: number) => {
    if (row.has(id)) return;
    row.set(id, r);
    for (const [i, t] of next(id).entries()) place(t, i === 0 ? r : ++rows);
  };
  for (const [i, s] of wf.steps.entries()) if (!row.has(s.id)) place(s.id, i === 0 ? 0 : ++rows);

  const nodes: Record<string, { x: number; y: number }> = {};
  for (const s of wf.steps) nodes[s.id] = { x: col.get(s.id)! * COLUMN_WIDTH, y: row.get(s.id)! * ROW_HEIGHT };
  return { ...wf, ui: { ...(wf.ui ?? {}), nodes } };
}
