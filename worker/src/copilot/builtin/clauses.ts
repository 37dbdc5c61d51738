/**
 * A prompt cut into clauses, each one thing: the event, a condition, an action, a
 * delay, or "otherwise". Users chain with commas, "then", "and", arrows and "+"; an
 * "if" or "when" clause often runs straight into its action ("if it's a VIP send them
 * an email"), so those are cut where an action the catalog knows begins.
 */
import type { CatalogEntry } from '../../../../connectors';
import { connectorWords, matchAction } from './catalog-match';
import { sameWord, stem } from './text';

/** Verbs that start an action. */
export const VERBS = [
  'create',
  'add',
  'make',
  'send',
  'notify',
  'post',
  'email',
  'mail',
  'message',
  'tell',
  'alert',
  'ping',
  'call',
  'hit',
  'update',
  'log',
  'record',
  'save',
  'store',
  'sync',
  'push',
  'forward',
  'open',
  'file',
  'submit',
  'text',
  'insert',
  'register',
  'book',
  'charge',
  'refund',
  'upload',
  'fetch',
  'get',
  'check',
  'request',
  'invite',
  'assign',
  'close',
  'delete',
  'remove',
  'archive',
  'publish',
  'share',
  'trigger',
  'write',
  'put',
  'generate',
  'issue',
  'let',
  'wait',
  'delay',
  'pause',
  'go',
  'drop',
  'inform',
  'announce',
  'message',
  'dm',
  'sms',
  'slack',
  'tweet',
  'export',
  'import',
  'copy',
];

const EVENT_END =
  /^(in|arrives?|placed|created|received|fails?|failed|succeeds?|succeeded|opened|up|submitted|happens|changed|updated|paid|completed|registered|closed|merged|pushed|added|deleted|cancell?ed|refunded|shipped|sent|made|booked|comes|through|there|occurs|triggered|starts|ends|done|finished)$/;

const TRIGGER_START = /^(when|whenever|on|once|after|as soon as|each time|every time|any time|anytime|upon|if ever)\b/;
const CONDITION_START = /^(if|unless|only|but only|in case|provided|as long as|for|where|whose|but not)\b/;
const SCHEDULE_START =
  /^(every|each|daily|hourly|weekly|monthly|nightly|once a|twice a|three times a|at \d|at noon|at midnight|on (mon|tue|wed|thu|fri|sat|sun|week))/;
const CONNECTIVE = /^(?:(?:and|then|and then|also|next|finally|after that|afterwards|so|and also|plus|&)\s+)+/;

export function isVerb(word: string): boolean {
  const w = word.toLowerCase();
  return VERBS.some((v) => w === v || stem(w) === v || (v.length >= 5 && sameWord(w, v)));
}

function protect(text: string): { text: string; restore: (s: string) => string } {
  const saved: string[] = [];
  const hide = (m: string) => {
    saved.push(m);
    return `\uE000${saved.length - 1}\uE000`;
  };
  const out = text.replace(/https?:\/\/[^\s,;'")]+[^\s,;'").]/g, hide).replace(/'[^']{2,}'|"[^"]{2,}"/g, hide);
  return { text: out, restore: (s) => s.replace(/\uE000(\d+)\uE000/g, (_, i) => saved[Number(i)]) };
}

/** Splits on punctuation, arrows and connectives; keeps "otherwise", "unless", "if" at the head of their clause. */
function coarse(text: string): string[] {
  return text
    .split(/\s*(?:->|=>|→|;|[.!?](?:\s|$)|,(?!\d{3}\b)|\s\+\s|:\s|\n)\s*/)
    .flatMap((part) =>
      part.split(
        /\s+(?=(?:and then|then|after that|afterwards|finally|otherwise|else|or else|if not|unless|only if|but only|only when|in any case|either way|regardless)\b)|(?<!\b(?:only|but|even|and|as|what|or))\s+(?=(?:if|when|whenever)\b)/i,
      ),
    )
    .map((s) => s.trim())
    .filter(Boolean);
}

/** "x and notify y" → two clauses when "and" is followed by a verb (or a delay/condition). */
function splitAnd(clause: string, catalog: CatalogEntry[]): string[] {
  const parts = clause.split(/\s+(?:and|&)\s+(?=(?:also\s+)?([a-z][\w-]*))/i);
  // split() with a capture group interleaves the captured word; rebuild pieces.
  const out: string[] = [];
  let cur = parts[0];
  for (let i = 1; i < parts.length; i += 2) {
    const next = parts[i + 1];
    const word = parts[i];
    const left = matchAction(cur, catalog);
    const right = matchAction(next, catalog);
    // "to the ERP and to #sales on Slack": two destinations, one verb.
    const twoPlaces = left?.named && right?.named && left.connector.code !== right.connector.code;
    if (isVerb(word) || /^(if|wait|then|only|unless|otherwise|also)$/i.test(word) || twoPlaces) {
      out.push(cur);
      cur = next;
    } else cur = `${cur} and ${next}`;
  }
  out.push(cur);
  return out;
}

/** Cuts "if X do Y" / "when X do Y" where an action the catalog knows begins. */
function splitLead(clause: string, catalog: CatalogEntry[]): string[] {
  const lower = clause.toLowerCase();
  const isTrigger = TRIGGER_START.test(lower);
  const isCondition = CONDITION_START.test(lower) || SCHEDULE_START.test(lower);
  const startsWithVerb = isVerb(lower.split(/\s+/)[0] ?? '');
  if (startsWithVerb) return [clause];
  // Any other lead ("twice a day at 9 post ...", "orders over 500 should go ..."): cut only
  // where an action is unmistakable (a named connector, a URL, a #channel).
  const isOther = !isTrigger && !isCondition;
  const ws = [...clause.matchAll(/\S+/g)];
  // Every place an action could begin; "whenever Stripe tells us ... we drop a note in #finance
  // on Slack" has two for the same action, and the later one is where the event ends.
  const cuts: { at: number; action?: string }[] = [];
  for (let i = 2; i < ws.length; i++) {
    const w = ws[i][0].replace(/[^\w#-]/g, '');
    if (!isVerb(w)) continue;
    const rest = clause.slice(ws[i].index);
    const m = matchAction(rest, catalog);
    if (!m && !/^(wait|delay|pause)$/i.test(w)) continue;
    const prev = ws[i - 1][0].toLowerCase();
    if (/^(a|an|the|is|are|be|been|was|of|for|by)$/.test(prev)) continue;
    // "on Slack", "to slack": a connector's name after a preposition is a place, not a verb.
    const namesConnector = catalog.some((c) => connectorWords(c).includes(w.toLowerCase()));
    if (namesConnector && /^(on|in|to|via|into|with|through|using)$/.test(prev)) continue;
    const eventEnded = ws.slice(2, i).some((x) => EVENT_END.test(x[0].toLowerCase().replace(/[^\w]/g, '')));
    const unmistakable = m?.named || /https?:\/\/|#\w/.test(rest);
    if (isTrigger && !(unmistakable || EVENT_END.test(prev) || (eventEnded && (m?.score ?? 0) >= 4))) continue;
    if (isOther && !unmistakable) continue;
    cuts.push({ at: ws[i].index ?? 0, action: m && `${m.connector.code}.${m.action.name}` });
  }
  if (cuts.length) {
    // A later cut wins only in an event clause, and only when nothing between names where the action goes.
    const later = isTrigger
      ? cuts.filter((c) => {
          if (c === cuts[0] || !c.action || c.action !== cuts[0].action) return false;
          const between = clause.slice(cuts[0].at, c.at);
          return !/#\w|https?:\/\//.test(between) && !matchAction(between, catalog)?.named;
        })
      : [];
    const cut = later.length ? later[later.length - 1] : cuts[0];
    // Only the first action's cut moves; later, different actions split again below.
    const rest = clause.slice(cut.at);
    return [clause.slice(0, cut.at).trim(), ...splitLead(rest, catalog)];
  }
  return [clause];
}

export function splitClauses(prompt: string, catalog: CatalogEntry[]): string[] {
  const { text, restore } = protect(prompt.replace(/\s+/g, ' ').trim());
  return coarse(text)
    .flatMap((c) => splitAnd(c, catalog))
    .map((c) => c.trim())
    .filter(Boolean)
    .flatMap((c) => {
      const lead = c.replace(CONNECTIVE, '');
      const restored = restore(lead);
      return splitLead(restored, catalog);
    })
    .map((c) => c.replace(CONNECTIVE, '').trim())
    .filter((c) => c.length > 0);
}
