/**
 * The editor's one model of a workflow file: the canvas, the node panel and the JSON tab
 * all read `draft.file` and write through `change`, so an edit in one shows in the others
 * at once. Every change is a step of undo history (Ctrl+Z / Ctrl+Shift+Z).
 */
import { withoutSuccessor, withSuccessor } from '../../../../worker/src/workflows/step-graph.ts';
import type { DraftFile, DraftStep } from '../api';

/** The editor's draft is the studio's loose draft file (api.ts): any JSON the user made, read defensively. */
export type EditorStep = DraftStep;
export type EditorFile = DraftFile;

/** The trigger's node id on the canvas: not a valid step id, so it never collides with one. */
export const TRIGGER_NODE = '$trigger';

const HISTORY_LIMIT = 200;

/** Reads anything (a saved draft, a typed JSON text) as a file the editor can draw. */
export function asEditorFile(value: unknown): EditorFile | null {
  const f = value as EditorFile | null;
  if (!f || typeof f !== 'object' || Array.isArray(f)) return null;
  if (!Array.isArray(f.steps) || !f.trigger || typeof f.trigger !== 'object') return null;
  if (!f.steps.every((s) => s && typeof s === 'object' && typeof s.id === 'string' && typeof s.type === 'string'))
    return null;
  return f;
}

export class Draft {
  file = $state.raw<EditorFile>() as EditorFile;
  #past: EditorFile[] = [];
  #future: EditorFile[] = [];
  canUndo = $state(false);
  canRedo = $state(false);

  constructor(file: EditorFile) {
    this.file = file;
  }

  /** Replaces the file as one undoable step. */
  change(next: EditorFile) {
    if (JSON.stringify(next) === JSON.stringify(this.file)) return;
    this.#past.push(this.file);
    if (this.#past.length > HISTORY_LIMIT) this.#past.shift();
    this.#future = [];
    this.file = next;
    this.#sync();
  }

  /** Starts over from `file` (a reload, a version restored) with no history. */
  reset(file: EditorFile) {
    this.#past = [];
    this.#future = [];
    this.file = file;
    this.#sync();
  }

  undo() {
    const prev = this.#past.pop();
    if (!prev) return;
    this.#future.push(this.file);
    this.file = prev;
    this.#sync();
  }

  redo() {
    const next = this.#future.pop();
    if (!next) return;
    this.#past.push(this.file);
    this.file = next;
    this.#sync();
  }

  #sync() {
    this.canUndo = this.#past.length > 0;
    this.canRedo = this.#future.length > 0;
  }

  step(id: string): EditorStep | undefined {
    return this.file.steps.find((s) => s.id === id);
  }

  updateStep(id: string, update: (step: EditorStep) => EditorStep) {
    this.change({ ...this.file, steps: this.file.steps.map((s) => (s.id === id ? update(s) : s)) });
  }

  /** Renames a step and every link and layout entry that names it. */
  renameStep(from: string, to: string) {
    if (from === to || this.step(to)) return;
    const relink = (s: EditorStep): EditorStep => {
      let out = s.id === from ? { ...s, id: to } : s;
      for (const field of ['next', 'then', 'else', 'default'] as const)
        if (out[field] === from) out = { ...out, [field]: to };
      if (out.cases?.some((c) => c.next === from))
        out = { ...out, cases: out.cases.map((c) => (c.next === from ? { ...c, next: to } : c)) };
      return out;
    };
    const nodes = { ...(this.file.ui?.nodes ?? {}) };
    if (nodes[from]) {
      nodes[to] = nodes[from];
      delete nodes[from];
    }
    this.change({ ...this.file, steps: this.file.steps.map(relink), ui: { ...this.file.ui, nodes } });
  }

  addStep(step: EditorStep, position: { x: number; y: number }) {
    const nodes = { ...(this.file.ui?.nodes ?? {}), [step.id]: roundPosition(position) };
    this.change({ ...this.file, steps: [...this.file.steps, step], ui: { ...this.file.ui, nodes } });
  }

  /**
   * Applies a set of canvas edits as one undoable step: removed steps (and the links to
   * them), cleared outcomes `{source, field}`.
   */
  remove(stepIds: string[], links: { source: string; field: string }[]) {
    const gone = new Set(stepIds);
    let steps = this.file.steps.filter((s) => !gone.has(s.id));
    for (const id of gone) steps = steps.map((s) => withoutSuccessor(s, id));
    for (const l of links) steps = steps.map((s) => (s.id === l.source ? withSuccessor(s, l.field, null) : s));
    const nodes = Object.fromEntries(Object.entries(this.file.ui?.nodes ?? {}).filter(([id]) => !gone.has(id)));
    this.change({ ...this.file, steps, ui: { ...this.file.ui, nodes } });
  }

  /** Points outcome `field` of `source` at `target`; from the trigger, makes `target` the first step. */
  connect(source: string, field: string, target: string) {
    if (source === TRIGGER_NODE) {
      const first = this.file.steps.find((s) => s.id === target);
      if (!first) return;
      this.change({ ...this.file, steps: [first, ...this.file.steps.filter((s) => s !== first)] });
      return;
    }
    this.updateStep(source, (s) => withSuccessor(s, field, target));
  }

  move(positions: Record<string, { x: number; y: number }>) {
    const nodes = { ...(this.file.ui?.nodes ?? {}) };
    for (const [id, p] of Object.entries(positions)) nodes[id] = roundPosition(p);
    this.change({ ...this.file, ui: { ...this.file.ui, nodes } });
  }
}

const roundPosition = (p: { x: number; y: number }) => ({ x: Math.round(p.x), y: Math.round(p.y) });
