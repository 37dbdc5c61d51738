/**
 * Conditions in words → JSONLogic over `trigger.body` paths: "high value" (a threshold
 * the notes ask to confirm), "over 500", "at least 1000", "from Germany", "is a VIP",
 * "unless the total is 0", "status is failed", "the email is empty".
 */
import { COUNTRIES } from './countries';
import { parseNumber, sameWord } from './text';

export type Op = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'in';

export interface Predicate {
  var: string;
  op: Op;
  value: unknown;
  /** Where in the text it was found (to order and de-duplicate). */
  at: number;
  end: number;
  /** A state of the event ("is refunded"): in a "when" clause it names the event, not a filter. */
  state?: boolean;
  /** Joined to the one before by "or" ("over 500 or a VIP"). */
  or?: boolean;
}

export interface ConditionContext {
  /** The trigger's source, e.g. "stripe" (amounts in cents under data.object). */
  source?: string;
}

export interface ParsedCondition {
  predicates: Predicate[];
  notes: string[];
}

export const HIGH_VALUE_THRESHOLD = 1000;

const COMPARATORS: [RegExp, Op][] = [
  [
    /greater than or equal to|more than or equal to|at least|no less than|not less than|minimum of|>=|≥|equal or greater than/,
    '>=',
  ],
  [/less than or equal to|at most|no more than|not more than|up to|maximum of|<=|≤/, '<='],
  [/greater than|more than|bigger than|larger than|higher than|in excess of|exceeds?|exceeding|over|above|>/, '>'],
  [/less than|fewer than|lower than|smaller than|under|below|<|beneath/, '<'],
  [/is not|isn't|not equal to|does not equal|doesn't equal|!=|differs from/, '!='],
  [/equals?|equal to|is exactly|exactly|is|==|=/, '=='],
];

/** Field words → the payload field they name. */
const FIELDS: Record<string, string> = {
  total: 'total',
  subtotal: 'subtotal',
  amount: 'amount',
  value: 'total',
  price: 'price',
  cost: 'total',
  quantity: 'quantity',
  qty: 'quantity',
  items: 'item_count',
  score: 'score',
  age: 'age',
  balance: 'balance',
  revenue: 'revenue',
  discount: 'discount',
  weight: 'weight',
  stock: 'stock',
  inventory: 'stock',
};

/** Fields compared as words ("status is failed", "currency is EUR"). */
const WORD_FIELDS = [
  'status',
  'state',
  'currency',
  'type',
  'plan',
  'tier',
  'priority',
  'channel',
  'source',
  'event',
  'action',
  'category',
  'language',
  'region',
  'email',
  'phone',
  'name',
  'country',
];

const NUMBER = String.raw`(?:[$€£¥]\s?)?(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:k|m)?(?:\s?(?:usd|eur|gbp|dollars?|euros?|bucks))?\b`;

function amountVar(ctx: ConditionContext, word?: string): { path: string; scale: number } {
  // Stripe events carry the object under data.object, amounts in the smallest currency unit.
  if (ctx.source === 'stripe') return { path: 'trigger.body.data.object.amount', scale: 100 };
  return { path: `trigger.body.${word ? (FIELDS[word] ?? word) : 'total'}`, scale: 1 };
}

function fieldBefore(text: string, at: number): string | undefined {
  const before = text.slice(Math.max(0, at - 40), at).toLowerCase();
  const ws = before.match(/[a-z_]+/g) ?? [];
  for (let i = ws.length - 1; i >= Math.max(0, ws.length - 4); i--) {
    const hit = Object.keys(FIELDS).find((f) => sameWord(ws[i], f) || ws[i] === `${f}s`);
    if (hit) return hit;
  }
  return undefined;
}

function overlaps(ps: Predicate[], at: number, end: number) {
  return ps.some((p) => at < p.end && end > p.at);
}

/** Every predicate in `text`, in order. */
export function parseCondition(text: string, ctx: ConditionContext = {}): ParsedCondition {
  // #channels and URLs name places, not conditions ("#vip" is a channel); blanked, so offsets hold.
  const lower = text.toLowerCase().replace(/#[\w-]+|https?:\/\/\S+/g, (m) => ' '.repeat(m.length));
  const predicates: Predicate[] = [];
  const notes: string[] = [];

  // "high value" / "big orders": a threshold the user must confirm.
  const high =
    /\bhigh[- ]?val(ue|ued)?\b|\b(big|large|huge|major) (orders?|deals?|payments?|purchases?|sales?)\b|\bhigh[- ]ticket\b/.exec(
      lower,
    );
  if (high) {
    const v = amountVar(ctx);
    predicates.push({
      var: v.path,
      op: '>=',
      value: HIGH_VALUE_THRESHOLD * v.scale,
      at: high.index,
      end: high.index + high[0].length,
    });
    notes.push(
      `Read "${high[0]}" as ${v.path.replace('trigger.body.', '')} >= ${HIGH_VALUE_THRESHOLD * v.scale}${v.scale > 1 ? ' (cents)' : ''}: confirm ${HIGH_VALUE_THRESHOLD} as the high-value threshold.`,
    );
  }

  // Numeric comparisons: "total is over 500", "orders at least 1,000", "amount >= 20".
  for (const [re, op] of COMPARATORS) {
    const full = new RegExp(String.raw`(?<!\w)(?:is |are |was |be )?(?:${re.source})\s*(${NUMBER})`, 'g');
    for (const m of lower.matchAll(full)) {
      const at = m.index ?? 0;
      const end = at + m[0].length;
      if (overlaps(predicates, at, end)) continue;
      // Durations ("over 2 hours") and times are not conditions.
      if (/^\s*(minutes?|mins?|hours?|hrs?|days?|weeks?|seconds?|am|pm)\b/.test(lower.slice(end))) continue;
      const n = parseNumber(m[1].replace(/\s/g, ''));
      if (n === undefined) continue;
      const word = fieldBefore(lower, at);
      const v = amountVar(ctx, word === 'amount' || word === 'total' || word === 'value' || !word ? undefined : word);
      const path = ctx.source === 'stripe' ? v.path : `trigger.body.${word ? FIELDS[word] : 'total'}`;
      const scale =
        ctx.source === 'stripe' && (!word || ['amount', 'total', 'value', 'price'].includes(word)) ? 100 : 1;
      predicates.push({ var: path, op, value: n * scale, at, end });
      if (!word) notes.push(`Compared ${n} with ${path}: change the field if your payload names it differently.`);
      if (scale > 1) notes.push(`Stripe amounts are in cents: ${n} became ${n * scale}.`);
    }
  }
  // "1000 or more", "500 and up", "20 or less"
  for (const m of lower.matchAll(
    new RegExp(
      String.raw`(${NUMBER})\s*(or more|and up|and above|or higher|\+|or less|or fewer|and below|or lower)`,
      'g',
    ),
  )) {
    const at = m.index ?? 0;
    const end = at + m[0].length;
    if (overlaps(predicates, at, end)) continue;
    const n = parseNumber(m[1].replace(/\s/g, ''));
    if (n === undefined) continue;
    const word = fieldBefore(lower, at);
    const v = amountVar(ctx, word === 'amount' || word === 'total' || !word ? undefined : word);
    predicates.push({
      var: v.path,
      op: /more|up|above|higher|\+/.test(m[2]) ? '>=' : '<=',
      value: n * v.scale,
      at,
      end,
    });
  }

  // Countries: "from Germany", "in France or Spain", "country is Spain", "German orders".
  const countryWords = Object.keys(COUNTRIES)
    .sort((a, b) => b.length - a.length)
    .join('|');
  const country = new RegExp(
    String.raw`\b(?:(?:from|in|to|country (?:is|=|==|equals)|located in|based in|shipping to|ships to)\s+(?:the\s+)?)?((?:${countryWords})(?:\s*(?:,|or|and|\/)\s*(?:the\s+)?(?:${countryWords}))*)\b`,
    'g',
  );
  for (const m of lower.matchAll(country)) {
    const at = m.index ?? 0;
    const end = at + m[0].length;
    if (overlaps(predicates, at, end)) continue;
    const named = m[1].split(/\s*(?:,|\bor\b|\band\b|\/)\s*/).map((s) => s.replace(/^the\s+/, '').trim());
    // "us" is a pronoun far more often than a country: only with "from/in/to".
    if (named.length === 1 && named[0] === 'us' && m[0] === m[1]) continue;
    const codes = [...new Set(named.map((n) => COUNTRIES[n]).filter(Boolean))];
    if (!codes.length) continue;
    const negated = /\b(not|outside( of)?|except|excluding)\s+(from\s+|in\s+)?$/.test(
      lower.slice(Math.max(0, at - 20), at),
    );
    predicates.push(
      codes.length === 1
        ? { var: 'trigger.body.country', op: negated ? '!=' : '==', value: codes[0], at, end }
        : { var: 'trigger.body.country', op: 'in', value: codes, at, end },
    );
    notes.push(`Matched the country on trigger.body.country as ${codes.join(', ')} (ISO codes).`);
  }

  // Flags: "is a VIP", "VIP customers", "for VIPs", "the user is verified".
  const vip = /\b(?:is an? |are )?vips?\b/.exec(lower);
  if (vip && !overlaps(predicates, vip.index, vip.index + vip[0].length)) {
    const negated = /\b(not|isn't|aren't|non)[ -]?(an? )?$/.test(
      lower.slice(Math.max(0, vip.index - 12), vip.index + (vip[0].startsWith('is') ? 3 : 0)),
    );
    predicates.push({
      var: 'trigger.body.customer.vip',
      op: negated ? '!=' : '==',
      value: true,
      at: vip.index,
      end: vip.index + vip[0].length,
    });
    notes.push(
      'Read "VIP" as trigger.body.customer.vip == true: change the field if your payload marks VIPs differently.',
    );
  }

  // Word fields: "status is failed", "currency is EUR", "the email is empty", "plan is not free".
  const wordField = new RegExp(
    String.raw`\b(${WORD_FIELDS.join('|')})\s+(is not|isn't|is|equals|=|==|!=)\s+(?:'([^']+)'|"([^"]+)"|(empty|blank|missing|[a-z0-9_-]+))`,
    'g',
  );
  for (const m of lower.matchAll(wordField)) {
    const at = m.index ?? 0;
    const end = at + m[0].length;
    if (overlaps(predicates, at, end)) continue;
    const field = m[1];
    let value: unknown = m[3] ?? m[4] ?? m[5];
    if (field === 'country') continue;
    if (typeof value === 'string' && parseNumber(value) !== undefined) continue;
    if (value === 'empty' || value === 'blank' || value === 'missing') value = '';
    else if (field === 'currency' && typeof value === 'string') value = value.toUpperCase();
    const neg = m[2] === 'is not' || m[2] === "isn't" || m[2] === '!=';
    predicates.push({ var: `trigger.body.${field}`, op: neg ? '!=' : '==', value, at, end });
  }
  // "with priority urgent", "with a plan of pro", "urgent priority"
  const withField =
    /\bwith (?:a |an |the )?(priority|status|type|plan|tier|category|currency|tag|label) (?:of |= ?|set to )?([a-z0-9_-]+)|\b(urgent|critical|high|low|medium|normal) priority\b/g;
  for (const m of lower.matchAll(withField)) {
    const at = m.index ?? 0;
    const end = at + m[0].length;
    if (overlaps(predicates, at, end)) continue;
    const field = m[1] ?? 'priority';
    const value = field === 'currency' ? (m[2] ?? '').toUpperCase() : (m[2] ?? m[3]);
    predicates.push({ var: `trigger.body.${field}`, op: '==', value, at, end });
  }
  // States of the event itself: "if a payment is refunded", "when the order was cancelled".
  const state =
    /\b(?:order|payment|charge|invoice|ticket|subscription|it|shipment|deal|booking)\s+(is not|isn't|is|was|gets|got|has been)\s+(refunded|paid|cancell?ed|failed|shipped|delivered|completed|overdue|pending|closed|open|approved|rejected|disputed|unpaid|active|expired)\b/g;
  for (const m of lower.matchAll(state)) {
    const at = m.index ?? 0;
    const end = at + m[0].length;
    if (overlaps(predicates, at, end)) continue;
    const value = m[2] === 'canceled' ? 'cancelled' : m[2];
    predicates.push({
      var: 'trigger.body.status',
      op: /not|n't/.test(m[1]) ? '!=' : '==',
      value,
      at,
      end,
      state: true,
    });
    notes.push(`Read "${m[0]}" as trigger.body.status == "${value}": check the field and value your sender uses.`);
  }
  predicates.sort((a, b) => a.at - b.at);
  for (let i = 1; i < predicates.length; i++)
    if (/\bor\b/.test(lower.slice(predicates[i - 1].end, predicates[i].at))) predicates[i].or = true;
  return { predicates, notes };
}

const NEGATE: Record<Exclude<Op, 'in'>, Op> = { '==': '!=', '!=': '==', '>': '<=', '>=': '<', '<': '>=', '<=': '>' };

export function negate(p: Predicate): Predicate | { not: Predicate } {
  if (p.op === 'in') return { not: p };
  return { ...p, op: NEGATE[p.op] };
}

function one(p: Predicate | { not: Predicate }): Record<string, unknown> {
  if ('not' in p) return { '!': one(p.not) };
  return { [p.op]: [{ var: p.var }, p.value] };
}

/** JSONLogic for the predicates; "unless" negates the whole condition (De Morgan: any may fail). */
export function toRule(ps: Predicate[], negated = false): Record<string, unknown> {
  const any = ps.some((p) => p.or);
  if (negated) {
    // De Morgan: "unless A and B" → !A or !B; "unless A or B" → !A and !B.
    const flipped = ps.map(negate);
    return flipped.length === 1 ? one(flipped[0]) : { [any ? 'and' : 'or']: flipped.map(one) };
  }
  return ps.length === 1 ? one(ps[0]) : { [any ? 'or' : 'and']: ps.map(one) };
}

/** A readable id for the condition step, e.g. `is_high_value`, `total_over_500`, `country_is_de`. */
export function conditionId(ps: Predicate[], text: string): string {
  if (/high[- ]?val/.test(text.toLowerCase())) return 'is_high_value';
  const p = ps[0];
  const field = p.var.split('.').pop() ?? 'value';
  const word = { '==': 'is', '!=': 'is_not', '>': 'over', '>=': 'at_least', '<': 'under', '<=': 'at_most', in: 'in' }[
    p.op
  ];
  const value = Array.isArray(p.value) ? p.value.join('_') : String(p.value);
  return (
    `${field}_${word}_${value}`
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .slice(0, 60) || 'check'
  );
}
