/**
 * A further sentence applied to an existing draft: "also email the customer" appends,
 * "only for orders from Germany" guards the start, "every day at 8 instead" replaces
 * the trigger, "don't notify Slack" removes, "make the threshold 2000" changes it.
 */
import type { CatalogEntry } from '../../../../connectors';
import { successors } from '../../workflows/step-graph';
import type { Step, Workflow } from '../../workflows/workflow-file';
import type { ProviderOutput } from '../provider';
import { connectorWords, matchAction } from './catalog-match';
import { splitClauses } from './clauses';
import { compose, subjectOf } from './compose';
import { parseDelay, toElements } from './elements';
import { parseNumber, sameWord, words } from './text';
import { parseTrigger } from './trigger';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** The last step on the main path (following `next`, `then`, the first case). */
function mainTail(steps: Step[]): Step | undefined {
  const byId = new Map(steps.map((s) => [s.id, s]));
  let cur = steps[0];
  const seen = new Set<string>();
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id);
    const next = successors(cur).find((t) => t && byId.has(t));
    if (!next) return cur;
    cur = byId.get(next)!;
  }
  return cur;
}

function setMainNext(step: Step, id: string) {
  if (step.type === 'condition') step.then = id;
  else if (step.type === 'branch') step.default = id;
  else step.next = id;
}

const REMOVE = /\b(remove|delete|drop|skip|don'?t|do not|no longer|stop|without|no need to)\b/i;

function removeConnector(wf: Workflow, prompt: string, catalog: CatalogEntry[], notes: string[]): boolean {
  if (!REMOVE.test(prompt)) return false;
  const ws = words(prompt).map((w) => w.text);
  const codes = catalog
    .filter((c) => connectorWords(c).some((cw) => cw.length >= 3 && ws.some((w) => sameWord(w, cw))))
    .map((c) => c.code);
  const doomed = wf.steps.filter((s) => s.type === 'action' && codes.includes(s.connector));
  if (!doomed.length) return false;
  for (const d of doomed) {
    const after = d.type === 'action' ? (d.next ?? null) : null;
    for (const s of wf.steps) {
      if (s.type === 'condition') {
        if (s.then === d.id) s.then = after;
        if (s.else === d.id) s.else = after;
      } else if (s.type === 'branch') {
        for (const c of s.cases) if (c.next === d.id) c.next = after;
        if (s.default === d.id) s.default = after;
      } else if (s.next === d.id) s.next = after;
    }
    wf.steps = wf.steps.filter((s) => s.id !== d.id);
    notes.push(`Removed step "${d.id}".`);
  }
  return true;
}

function changeThreshold(wf: Workflow, prompt: string, notes: string[]): boolean {
  const m =
    /\b(?:threshold|limit|minimum|cutoff|cut-off)\b.*?\b(?:to|of|at|=)?\s*([$€£]?\d[\d,.]*k?)\b|\b(?:raise|lower|change|set|make)\b.*?\b(?:it|that)?\s*(?:to)\s+([$€£]?\d[\d,.]*k?)\s*(?:instead)?$/i.exec(
      prompt,
    );
  if (!m) return false;
  const n = parseNumber((m[1] ?? m[2]).replace(/[.,]$/, ''));
  if (n === undefined) return false;
  for (const s of wf.steps) {
    if (s.type !== 'condition' || typeof s.rule !== 'object') continue;
    const rule = s.rule as Record<string, unknown>;
    for (const op of ['>=', '>', '<', '<=']) {
      const args = rule[op];
      if (Array.isArray(args) && typeof args[1] === 'number') {
        args[1] = n;
        notes.push(`Changed the threshold of "${s.id}" to ${n}.`);
        return true;
      }
    }
  }
  return false;
}

/** "wait 1 hour before notifying Slack": a delay in front of the step the rest of the sentence names. */
function insertDelayBefore(wf: Workflow, prompt: string, catalog: CatalogEntry[], notes: string[]): boolean {
  const m = /\bbefore\s+(.+)$/i.exec(prompt);
  const delay = parseDelay(prompt);
  if (!m || !delay) return false;
  const target = matchAction(m[1], catalog);
  const step =
    wf.steps.find(
      (s) => s.type === 'action' && target && s.connector === target.connector.code && s.action === target.action.name,
    ) ?? wf.steps.find((s) => s.type === 'action' && target && s.connector === target.connector.code);
  if (!step) return false;
  const taken = new Set(wf.steps.map((s) => s.id));
  let id = `wait_${delay.label}`;
  for (let n = 2; taken.has(id); n++) id = `wait_${delay.label}_${n}`;
  for (const s of wf.steps) {
    if (s.type === 'condition') {
      if (s.then === step.id) s.then = id;
      if (s.else === step.id) s.else = id;
    } else if (s.type === 'branch') {
      for (const c of s.cases) if (c.next === step.id) c.next = id;
      if (s.default === step.id) s.default = id;
    } else if (s.next === step.id) s.next = id;
  }
  const at = wf.steps.indexOf(step);
  wf.steps.splice(at, 0, { id, type: 'delay', delayMs: delay.ms, next: step.id });
  notes.push(`Added "${id}" before "${step.id}".`);
  return true;
}

export function editWorkflow(original: Workflow, prompt: string, catalog: CatalogEntry[]): ProviderOutput {
  const wf = clone(original);
  delete wf.ui;
  const notes: string[] = [];
  const parsed = parseTrigger(prompt);
  const namesTrigger =
    parsed.trigger.type === 'schedule' ||
    parsed.trigger.type === 'api' ||
    parsed.trigger.type === 'manual' ||
    (parsed.trigger.type === 'webhook' && !!parsed.source);
  if (namesTrigger && JSON.stringify(parsed.trigger) !== JSON.stringify(wf.trigger)) {
    wf.trigger = parsed.trigger;
    notes.push('Replaced the trigger.', ...parsed.notes);
    if (JSON.stringify(wf.steps).includes('trigger.body'))
      notes.push(
        parsed.trigger.type === 'schedule'
          ? 'The steps still read trigger.body, but a scheduled run has no event payload: give the schedule a payload or change those fields.'
          : "The steps still read trigger.body fields of the old trigger: check them against the new sender's payload.",
      );
  }
  if (removeConnector(wf, prompt, catalog, notes)) return { workflow: wf, notes };
  if (changeThreshold(wf, prompt, notes)) return { workflow: wf, notes };
  if (insertDelayBefore(wf, prompt, catalog, notes)) return { workflow: wf, notes };

  const source =
    parsed.source ?? (wf.trigger.type === 'webhook' && wf.trigger.verify.scheme === 'stripe' ? 'stripe' : undefined);
  const elements = toElements(splitClauses(prompt, catalog), catalog, { source });
  const onlyConditions = elements.length > 0 && elements.every((e) => e.kind === 'condition');
  if (onlyConditions) {
    // "only for orders from Germany": guard the whole workflow at its start.
    const el = elements[0];
    if (el.kind !== 'condition') return { workflow: wf, notes };
    const composed = compose([el], {
      prompt,
      trigger: wf.trigger,
      subject: subjectOf(prompt, wf.trigger),
      catalog,
      taken: new Set(wf.steps.map((s) => s.id)),
    });
    const guard = composed.steps[0];
    if (guard?.type === 'condition') {
      guard.then = wf.steps[0].id;
      wf.steps = [guard, ...wf.steps];
      notes.push(...composed.notes, `Added "${guard.id}" before the first step: runs that fail it end there.`);
    }
    return { workflow: wf, notes };
  }
  const composed = compose(elements, {
    prompt,
    trigger: wf.trigger,
    subject: subjectOf(`${wf.description ?? ''} ${prompt}`, wf.trigger),
    catalog,
    taken: new Set(wf.steps.map((s) => s.id)),
  });
  if (!composed.first) {
    notes.push(namesTrigger ? 'No new steps.' : 'Understood no change in that sentence: the draft is unchanged.');
    return { workflow: wf, notes };
  }
  const tail = mainTail(wf.steps);
  if (tail) setMainNext(tail, composed.first);
  wf.steps.push(...composed.steps);
  if (Object.keys(composed.vars).length) wf.vars = { ...(wf.vars ?? {}), ...composed.vars };
  notes.push(...composed.notes, `Appended ${composed.steps.length} step(s) after "${tail?.id}".`);
  return { workflow: wf, notes };
}
