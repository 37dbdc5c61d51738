/**
 * Elements → workflow steps. A condition's `then` takes what follows; "otherwise"
 * moves on to its `else`; "either way" joins both paths again.
 */
import type { CatalogEntry } from '../../../../connectors';
import type { Step, Trigger } from '../../workflows/workflow-file';
import { conditionId, toRule } from './condition';
import type { Element } from './elements';
import { fillParams } from './params';
import { snake } from './text';

export interface Composed {
  steps: Step[];
  vars: Record<string, unknown>;
  notes: string[];
}

type Setter = (id: string) => void;

export interface ComposeContext {
  prompt: string;
  trigger: Trigger;
  subject: string;
  catalog: CatalogEntry[];
  /** Ids already taken (when appending to an existing draft). */
  taken?: Set<string>;
}

const HTTP_FALLBACK = { connector: 'http', action: 'request' };

export function compose(elements: Element[], ctx: ComposeContext): Composed & { first?: string; tails: Setter[] } {
  const steps: Step[] = [];
  const vars: Record<string, unknown> = {};
  const notes: string[] = [];
  const taken = ctx.taken ?? new Set<string>();
  let first: string | undefined;
  let dangling: Setter[] = [
    (id) => {
      first ??= id;
    },
  ];
  const stack: { thenTails?: Setter[]; elseSetter: Setter; usedElse: boolean }[] = [];
  const uniqueId = (base: string) => {
    const root = snake(base, 50) || 'step';
    let id = root;
    for (let n = 2; taken.has(id); n++) id = `${root}_${n}`;
    taken.add(id);
    return id;
  };
  const link = (id: string) => {
    for (const set of dangling) set(id);
  };

  for (const el of elements) {
    if (el.kind === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.usedElse) {
        notes.push('Found "otherwise" without a matching "if": ignored it.');
        continue;
      }
      top.thenTails = dangling;
      top.usedElse = true;
      dangling = [top.elseSetter];
      continue;
    }
    if (el.kind === 'join') {
      const top = stack.pop();
      if (top) dangling = [...(top.thenTails ?? []), ...dangling, ...(top.usedElse ? [] : [top.elseSetter])];
      continue;
    }
    if (el.kind === 'condition') {
      const step = {
        id: uniqueId(conditionId(el.predicates, el.text)),
        type: 'condition' as const,
        rule: toRule(el.predicates, el.negated),
        then: null as string | null,
        else: null as string | null,
      };
      link(step.id);
      steps.push(step);
      notes.push(...el.notes);
      stack.push({ elseSetter: (id) => (step.else = id), usedElse: false });
      dangling = [(id) => (step.then = id)];
      continue;
    }
    if (el.kind === 'delay') {
      const step = {
        id: uniqueId(`wait_${el.label}`),
        type: 'delay' as const,
        delayMs: el.ms,
        next: null as string | null,
      };
      link(step.id);
      steps.push(step);
      dangling = [(id) => (step.next = id)];
      continue;
    }
    const match =
      el.kind === 'action'
        ? el.match
        : (() => {
            const connector = ctx.catalog.find((c) => c.code === HTTP_FALLBACK.connector);
            const action = connector?.actions.find((a) => a.name === HTTP_FALLBACK.action);
            return connector && action ? { connector, action, score: 0, named: false } : undefined;
          })();
    if (!match) {
      notes.push(`Nothing in your connector catalog does "${el.clause}": left it out.`);
      continue;
    }
    const base = match.action.name === 'request' ? `${match.connector.code}_request` : match.action.name;
    const id = uniqueId(base);
    const filled = fillParams(match.connector, match.action, {
      clause: el.clause,
      prompt: ctx.prompt,
      triggerType: ctx.trigger.type,
      subject: ctx.subject,
      stepId: id,
    });
    if (el.kind === 'unmatched')
      notes.push(
        `No connector in your catalog matched "${el.clause}": drafted step "${id}" as an HTTP request; point it at the right API or register a connector for it.`,
      );
    const step: Step = {
      id,
      type: 'action',
      connector: match.connector.code,
      action: match.action.name,
      params: filled.params,
      ...(filled.secrets ? { secrets: filled.secrets } : {}),
      next: null,
    };
    link(id);
    steps.push(step);
    Object.assign(vars, filled.vars);
    notes.push(...filled.notes);
    dangling = [(next) => ((step as { next?: string | null }).next = next)];
  }
  return { steps, vars, notes, first, tails: dangling };
}

/** What the event is about, for message text: "order", "payment", "signup". */
export function subjectOf(prompt: string, trigger: Trigger): string {
  if (trigger.type === 'schedule') return 'scheduled report';
  const m =
    /\b(order|payment|charge|invoice|refund|signup|sign-up|lead|ticket|issue|pull request|push|response|submission|subscription|customer|user|booking|message|event|deployment|review)s?\b/i.exec(
      prompt,
    );
  return m ? m[1].toLowerCase() : 'event';
}
