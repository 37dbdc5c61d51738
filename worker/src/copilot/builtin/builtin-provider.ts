/**
 * The built-in provider: a deterministic parser of the language people use to describe
 * automations. Works offline; reads the connector catalog at request time.
 */
import type { Workflow } from '../../workflows/workflow-file';
import type { DraftProvider, DraftRequest, ProviderOutput } from '../provider';
import { splitClauses } from './clauses';
import { compose, subjectOf } from './compose';
import { editWorkflow } from './edit';
import { toElements } from './elements';
import { correctTypos, normalize, snake } from './text';
import { parseTrigger } from './trigger';

function nameOf(prompt: string): string {
  const first = prompt.split(/(?<=[.!?])\s/)[0].replace(/[.!?]+$/, '');
  const short = first.length > 60 ? `${first.slice(0, 57).replace(/\s+\S*$/, '')}...` : first;
  return short.charAt(0).toUpperCase() + short.slice(1);
}

export function draftFromPrompt(request: DraftRequest): ProviderOutput {
  const prompt = correctTypos(normalize(request.prompt));
  if (request.workflow) return editWorkflow(request.workflow, prompt, request.catalog);
  const parsed = parseTrigger(prompt);
  const clauses = splitClauses(prompt, request.catalog);
  const elements = toElements(clauses, request.catalog, { source: parsed.source });
  const composed = compose(elements, {
    prompt,
    trigger: parsed.trigger,
    subject: subjectOf(prompt, parsed.trigger),
    catalog: request.catalog,
  });
  const notes = [...parsed.notes, ...composed.notes];
  if (!composed.steps.some((s) => s.type === 'action')) {
    notes.push(
      'Found no action in the prompt that matches your connector catalog: drafted an HTTP request to fill in. Name a connector (GET /api/connectors lists them) to draft it.',
    );
    const fallback = compose([{ kind: 'unmatched', clause: prompt }], {
      prompt,
      trigger: parsed.trigger,
      subject: subjectOf(prompt, parsed.trigger),
      catalog: request.catalog,
      taken: new Set(composed.steps.map((s) => s.id)),
    });
    for (const set of composed.tails) if (fallback.first) set(fallback.first);
    composed.steps.push(...fallback.steps);
    Object.assign(composed.vars, fallback.vars);
  }
  const name = nameOf(normalize(request.prompt));
  const workflow: Workflow = {
    key: snake(name, 40).replace(/^_+/, '') || 'draft',
    name,
    description: normalize(request.prompt).slice(0, 5000),
    ...(Object.keys(composed.vars).length ? { vars: composed.vars } : {}),
    trigger: parsed.trigger,
    steps: composed.steps,
  };
  return { workflow, notes };
}

export const builtinProvider: DraftProvider = {
  name: 'builtin',
  async draft(request) {
    return draftFromPrompt(request);
  },
};
