/**
 * Which catalog action a clause asks for, from what the catalog says about itself at
 * request time (connector code and name, action names, descriptions, input fields), so
 * a connector registered with `register(...)` is draftable the moment it exists.
 */
import type { CatalogEntry } from '../../../../connectors';
import { sameWord, STOPWORDS, stem, words } from './text';

export interface ActionMatch {
  connector: CatalogEntry;
  action: CatalogEntry['actions'][number];
  score: number;
  /** True when the clause named the connector itself. */
  named: boolean;
}

/** Words that mean the same thing to someone describing an automation. */
const SYNONYMS: string[][] = [
  ['notify', 'message', 'post', 'tell', 'alert', 'ping', 'announce', 'inform', 'share', 'chat', 'say'],
  [
    'create',
    'add',
    'make',
    'open',
    'insert',
    'register',
    'book',
    'file',
    'put',
    'log',
    'record',
    'save',
    'store',
    'enter',
    'push',
    'sync',
  ],
  ['email', 'mail', 'e-mail'],
  ['sms', 'text'],
  ['request', 'call', 'hit', 'fetch', 'get', 'invoke', 'ping', 'http', 'https', 'url', 'endpoint', 'api', 'webhook'],
  ['order', 'purchase', 'sale'],
  ['contact', 'lead', 'person', 'people', 'signup', 'subscriber', 'user', 'customer', 'client'],
  ['deal', 'opportunity', 'opp'],
  ['ticket', 'issue', 'case', 'incident'],
  ['invoice', 'bill'],
  ['update', 'change', 'modify', 'edit', 'set'],
  ['delete', 'remove', 'drop'],
];

/** Words too generic to tell connectors apart. */
const WEAK = new Set([
  'send',
  'new',
  'get',
  'set',
  'use',
  'data',
  'api',
  'company',
  'through',
  'return',
  'any',
  'given',
]);

function expand(word: string): string[] {
  const s = stem(word);
  const out = new Set([word, s]);
  for (const group of SYNONYMS) if (group.some((g) => sameWord(word, g) || s === g)) for (const g of group) out.add(g);
  return [...out];
}

function tokens(text: string): string[] {
  return words(text.replace(/_/g, ' '))
    .map((w) => w.text)
    .filter((w) => !STOPWORDS.has(w) && !/^\d+$/.test(w));
}

function hits(clause: string[], target: string[]): number {
  let n = 0;
  for (const t of new Set(target)) if (clause.some((c) => c === t || sameWord(c, t))) n += WEAK.has(t) ? 0.25 : 1;
  return n;
}

/** Connector words: its code's parts and name's words ("legacy", "erp"; "acme", "crm"). */
export function connectorWords(c: CatalogEntry): string[] {
  return [...new Set([...tokens(c.code), ...tokens(c.name)])];
}

/** The best action for a clause, or undefined when nothing in the catalog fits. */
export function matchAction(clause: string, catalog: CatalogEntry[]): ActionMatch | undefined {
  const raw = tokens(clause.replace(/https?:\/\/\S+/g, ' url ').replace(/#[\w-]+/g, ' channel '));
  const expanded = [...new Set(raw.flatMap(expand))];
  const hasUrl = /https?:\/\//.test(clause);
  // "POST the orders to ..." in capitals is an HTTP method, not "post a message".
  const httpMethod = /\b(GET|POST|PUT|PATCH|DELETE)\b/.test(clause);
  const hasChannel = /#[\w-]+/.test(clause);
  // The verb says most about which action: "email the customer" is not "add a customer".
  const verb = raw.length ? expand(raw[0]) : [];
  let best: ActionMatch | undefined;
  for (const connector of catalog) {
    const cWords = connectorWords(connector);
    // The connector is named when a distinctive word of it is typed (not a synonym of it).
    const named = cWords.some(
      (w) => w.length >= 3 && !WEAK.has(w) && raw.some((r) => r === w || sameWord(r, w) || stem(r) === w),
    );
    for (const action of connector.actions) {
      const props = Object.keys((action.inputs as { properties?: Record<string, unknown> }).properties ?? {});
      let score = named ? 4 : 0;
      score += 2 * hits(expanded, tokens(action.name));
      if (hits(verb, tokens(action.name)) >= 1) score += 2;
      score += 0.5 * Math.min(3, hits(expanded, tokens(action.description)));
      score += 0.5 * Math.min(2, hits(expanded, tokens(connector.description)));
      // A URL is the strongest hint there is, short of naming a connector.
      if (hasUrl && props.includes('url')) score += 4;
      if (httpMethod && props.includes('method')) score += 3;
      if (hasChannel && props.includes('channel')) score += 3;
      if (expanded.includes('email') && props.some((p) => /^(to|email|recipient)s?$/.test(p))) score += 2;
      if (!best || score > best.score) best = { connector, action, score, named };
    }
  }
  return best && best.score >= 2 ? best : undefined;
}
