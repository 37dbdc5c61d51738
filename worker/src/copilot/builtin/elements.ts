/**
 * Each clause as what it asks for: a condition, an action, a delay, or a switch to the
 * `else` path. The order of elements is the order of the steps.
 */
import type { CatalogEntry } from '../../../../connectors';
import { type ActionMatch, matchAction } from './catalog-match';
import { isVerb } from './clauses';
import { type ConditionContext, type Predicate, parseCondition } from './condition';
import { parseNumber, STOPWORDS, words } from './text';

export type Element =
  | { kind: 'condition'; predicates: Predicate[]; negated: boolean; text: string; notes: string[] }
  | { kind: 'action'; match: ActionMatch; clause: string }
  | { kind: 'unmatched'; clause: string }
  | { kind: 'delay'; ms: number; label: string }
  | { kind: 'else' }
  | { kind: 'join' };

const UNIT_MS: [RegExp, number, string][] = [
  [/^(s|secs?|seconds?)$/, 1000, 's'],
  [/^(m|mins?|minutes?)$/, 60_000, 'm'],
  [/^(h|hrs?|hours?)$/, 3_600_000, 'h'],
  [/^(d|days?)$/, 86_400_000, 'd'],
  [/^(w|wks?|weeks?)$/, 7 * 86_400_000, 'w'],
];
const COUNT = String.raw`(\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty-five|sixty|ninety|half an?)`;
const UNIT = `(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|[smhdw])`;
const DELAY = new RegExp(
  String.raw`\b(?:wait(?:\s+for)?|delay(?:\s+(?:it|by|for))?|pause(?:\s+for)?|sleep(?:\s+for)?|hold(?:\s+(?:it|off))?(?:\s+for)?|after|in)\s+(?:about\s+|another\s+)?${COUNT}\s*(?:more\s+|additional\s+|further\s+)?${UNIT}\b(?:\s+later)?|\b${COUNT}\s*${UNIT}\s+(?:later|after(?:wards)?)\b`,
  'i',
);

export function parseDelay(clause: string): { ms: number; label: string; match: string } | undefined {
  const m = DELAY.exec(clause);
  if (!m) return undefined;
  const countText = (m[1] ?? m[3]).toLowerCase();
  const unitText = (m[2] ?? m[4]).toLowerCase();
  const count = countText.startsWith('half') ? 0.5 : (parseNumber(countText) ?? 1);
  const unit = UNIT_MS.find(([re]) => re.test(unitText));
  if (!unit) return undefined;
  // "half an hour" → 30 minutes.
  const ms = Math.round(count * unit[1]);
  const label = count === 0.5 && unit[2] === 'h' ? '30m' : `${count}${unit[2]}`;
  return { ms, label, match: m[0] };
}

const ELSE = /^(otherwise|else|or else|if not|if it'?s? not|if they'?re not|and if not|failing that)\b[\s,]*/i;
const JOIN = /^(in any case|either way|regardless|in both cases|always|no matter what)\b[\s,]*/i;
const CONDITION_LEAD =
  /^(if|unless|only if|only when|only for|but only|in case|provided( that)?|as long as|for|where|when|whenever)\b/i;

const FILLER =
  /^(?:(?:please|just|simply|also|automatically|then|and|so|(?:i|we) (?:want|need|would like|'d like) to|it should|should|you should|go and|go)\s+)+/i;

const NOT_A_FIELD = new Set([
  'they',
  'them',
  'it',
  'he',
  'she',
  'someone',
  'person',
  'customer',
  'user',
  'has',
  'have',
  'had',
  'did',
  'does',
  'checked',
  'ticked',
  'selected',
  'opted',
  'chose',
  'chosen',
  'wants',
  'want',
  'asked',
  'box',
  'field',
  'option',
  'true',
  'yes',
  'set',
  'not',
  'there',
  'any',
]);

/**
 * "if they checked the newsletter box": a condition the parser cannot read exactly still
 * becomes a condition step, on the most telling word, with a note to check it.
 */
function guessCondition(clause: string): Element | undefined {
  const m = /^(if|only if|unless|only when|in case)\b\s*(.*)$/i.exec(clause);
  if (!m) return undefined;
  const field = words(m[2])
    .map((w) => w.text.replace(/[^a-z0-9_]/g, ''))
    .find((w) => w.length > 2 && !STOPWORDS.has(w) && !NOT_A_FIELD.has(w) && !isVerb(w) && !/^\d/.test(w));
  if (!field) return undefined;
  const negated = /^unless\b/i.test(clause) || /\b(not|n't|didn't|doesn't|no)\b/i.test(m[2]);
  return {
    kind: 'condition',
    predicates: [{ var: `trigger.body.${field}`, op: '==', value: true, at: 0, end: clause.length }],
    negated,
    text: clause,
    notes: [
      `Could not read "${clause}" exactly: drafted trigger.body.${field} == true${negated ? ' (negated)' : ''}. Check the rule in the Rule Tester.`,
    ],
  };
}

function isTriggerOnly(clause: string): boolean {
  return /^(when|whenever|on|once|upon|after|each time|every time|as soon as)\b/i.test(clause);
}

export function toElements(clauses: string[], catalog: CatalogEntry[], ctx: ConditionContext): Element[] {
  const out: Element[] = [];
  const queue = clauses.map((text, index) => ({ text, first: index === 0 }));
  while (queue.length) {
    const { text: raw, first } = queue.shift()!;
    let clause = raw;
    const elseLead = ELSE.exec(clause);
    if (elseLead) {
      out.push({ kind: 'else' });
      clause = clause.slice(elseLead[0].length).replace(/^(just|simply|only)\s+/i, '');
    }
    const join = JOIN.exec(clause);
    if (join) {
      out.push({ kind: 'join' });
      clause = clause.slice(join[0].length);
    }
    clause = clause.replace(FILLER, '');
    if (!clause.trim() || /^(do nothing|nothing|stop|ignore it|skip it|end)$/i.test(clause.trim())) continue;
    const delay = parseDelay(clause);
    if (delay && !/^(when|whenever|every|each)\b/i.test(clause)) {
      out.push({ kind: 'delay', ms: delay.ms, label: delay.label });
      clause = clause
        .replace(delay.match, ' ')
        .replace(/^\s*(then|and|,)\s*/i, '')
        .trim();
      if (!clause || words(clause).length < 2) continue;
    }
    const firstWord = words(clause)[0]?.text ?? '';
    const leadsCondition = CONDITION_LEAD.test(clause);
    const match = matchAction(clause, catalog);
    const cond = parseCondition(clause.replace(/https?:\/\/\S+/g, ' '), ctx);
    // In "when an invoice is overdue" the state names the event; in "if it is overdue" it filters.
    if (isTriggerOnly(clause)) cond.predicates = cond.predicates.filter((p) => !p.state);
    if (cond.predicates.length && match && (match.named || isVerb(firstWord)) && !leadsCondition) {
      // "Orders above 10k should go to the ERP" / "create a deal for payments of at least $2,000":
      // the condition and the action, in the order they were written.
      const end = Math.max(...cond.predicates.map((p) => p.end));
      const start = Math.min(...cond.predicates.map((p) => p.at));
      const before = clause.slice(0, start).trim();
      const after = clause.slice(end).trim();
      const conditionEl: Element = {
        kind: 'condition',
        predicates: cond.predicates,
        negated: false,
        text: clause,
        notes: cond.notes,
      };
      if (after && matchAction(after, catalog) && !isVerb(firstWord)) {
        out.push(conditionEl);
        queue.unshift({ text: after, first: false });
        continue;
      }
      if (before && isVerb(firstWord)) {
        out.push({ kind: 'action', match: matchAction(before, catalog) ?? match, clause: before });
        out.push(conditionEl);
        continue;
      }
    }
    // The event clause ("when a high value order comes in") and condition clauses carry predicates, not actions.
    if (cond.predicates.length && (leadsCondition || !match || !isVerb(firstWord))) {
      const negated = /^(unless|but not|except)\b/i.test(clause) || /\bunless\b/i.test(clause);
      out.push({ kind: 'condition', predicates: cond.predicates, negated, text: clause, notes: cond.notes });
      continue;
    }
    if (first && isTriggerOnly(clause) && !(match?.named && isVerb(firstWord))) continue;
    if (leadsCondition && !match) {
      const guessed = guessCondition(clause);
      if (guessed) out.push(guessed);
      continue;
    }
    if (match && (isVerb(firstWord) || match.named)) {
      out.push({ kind: 'action', match, clause });
      continue;
    }
    if (isVerb(firstWord) && !/^(wait|delay|pause)$/.test(firstWord)) out.push({ kind: 'unmatched', clause });
  }
  return arrange(out);
}

/**
 * "Create the order unless the total is 0": a condition with nothing after it guards
 * the actions just before it. Neighbouring conditions merge into one.
 */
function arrange(els: Element[]): Element[] {
  const out = [...els];
  for (let i = 0; i < out.length; i++) {
    const el = out[i];
    if (el.kind !== 'condition') continue;
    const after = out.slice(i + 1).filter((e) => e.kind !== 'condition');
    if (after.length === 0 || after[0].kind === 'else') {
      let start = i;
      while (
        start > 0 &&
        (out[start - 1].kind === 'action' || out[start - 1].kind === 'unmatched' || out[start - 1].kind === 'delay')
      )
        start--;
      if (start < i) {
        out.splice(i, 1);
        out.splice(start, 0, el);
      }
    }
  }
  const merged: Element[] = [];
  for (const el of out) {
    const prev = merged[merged.length - 1];
    if (el.kind === 'condition' && prev?.kind === 'condition' && prev.negated === el.negated) {
      prev.predicates = [
        ...prev.predicates,
        ...el.predicates.filter(
          (p) => !prev.predicates.some((q) => q.var === p.var && q.op === p.op && q.value === p.value),
        ),
      ];
      prev.notes = [...prev.notes, ...el.notes];
      prev.text = `${prev.text}, ${el.text}`;
    } else merged.push(el);
  }
  return merged;
}
