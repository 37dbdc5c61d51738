/** What changed between two workflow files: the steps to highlight, and a line diff of the JSON. */
import type { EditorFile } from './draft.svelte.ts';

/** Steps added, removed or changed from `a` to `b` (layout in `ui` is not a change). */
export function changedSteps(a: EditorFile, b: EditorFile): Set<string> {
  const before = new Map(a.steps.map((s) => [s.id, JSON.stringify(s)]));
  const after = new Map(b.steps.map((s) => [s.id, JSON.stringify(s)]));
  const out = new Set<string>();
  for (const [id, text] of after) if (before.get(id) !== text) out.add(id);
  for (const id of before.keys()) if (!after.has(id)) out.add(id);
  return out;
}

export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

/** A line diff (longest common subsequence) of the two files as pretty JSON, without `ui`. */
export function jsonDiff(a: EditorFile, b: EditorFile): DiffLine[] {
  const lines = (f: EditorFile) => JSON.stringify({ ...f, ui: undefined }, null, 2).split('\n');
  const x = lines(a);
  const y = lines(b);
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: length of the common subsequence of x[i..] and y[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ kind: 'same', text: x[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ kind: 'removed', text: x[i++] });
    else out.push({ kind: 'added', text: y[j++] });
  }
  while (i < n) out.push({ kind: 'removed', text: x[i++] });
  while (j < m) out.push({ kind: 'added', text: y[j++] });
  return out;
}
