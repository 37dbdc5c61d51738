/**
 * Words as users type them: lower case, typos, punctuation. The parsers compare words
 * through `sameWord`, which forgives a slip of the keyboard on words long enough for
 * one not to turn them into another word.
 */

/** Levenshtein distance with an early exit once it exceeds `max`. */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      // A swapped pair of letters ("teh") counts as one slip.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], prev[j - 2] + 1);
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** How many slips a keyword of this length tolerates: none for short words, where one slip makes another word. */
export function tolerance(word: string): number {
  if (word.length <= 3) return 0;
  if (word.length <= 7) return 1;
  return 2;
}

/** True when `typed` is `keyword`, allowing for typos proportional to the keyword's length. */
export function sameWord(typed: string, keyword: string): boolean {
  if (typed === keyword) return true;
  const t = tolerance(keyword);
  if (t === 0) return false;
  // The first letter is rarely the slip; requiring it avoids "order" ~ "border".
  if (typed[0] !== keyword[0]) return false;
  return editDistance(typed, keyword, t) <= t;
}

/** Lower case, straight quotes, single spaces; keeps `#channels`, URLs, numbers and `@`. */
export function normalize(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201C\u201D]/g, "'")
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface Word {
  /** Lower-cased word as typed. */
  text: string;
  /** Offset in the clause, for ordering what was found. */
  at: number;
}

const WORD = /[#@]?[a-z0-9][a-z0-9_'-]*/g;

export function words(text: string): Word[] {
  const lower = text.toLowerCase();
  return [...lower.matchAll(WORD)].map((m) => ({ text: m[0].replace(/'s$/, ''), at: m.index ?? 0 }));
}

/** A plural or verb ending off, so "orders", "notifies", "created" meet "order", "notify", "create". */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('es') && /(sh|ch|ss|x)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Index of the first word that is (a typo of) one of `keywords`, or -1. */
export function findWord(ws: Word[], keywords: readonly string[], from = 0): number {
  for (let i = from; i < ws.length; i++) {
    if (keywords.some((k) => sameWord(ws[i].text, k) || stem(ws[i].text) === k)) return i;
  }
  return -1;
}

export function hasWord(text: string, keywords: readonly string[]): boolean {
  return findWord(words(text), keywords) >= 0;
}

/** Words that carry no meaning for matching actions. */
export const STOPWORDS = new Set(
  "a an the to in on of for and or it its it's this that these those them they their there with into from by at as is are be been was were our my your we i me us you he she his her new then also just please when whenever once if some any all each every via using use through about so up out".split(
    ' ',
  ),
);

const SMALL_NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  forty: 40,
  'forty-five': 45,
  fifty: 50,
  sixty: 60,
  ninety: 90,
  hundred: 100,
};

/** "2", "two", "a", "1,000", "1.5", "2k", "$500" → a number; undefined when not a number. */
export function parseNumber(token: string): number | undefined {
  const t = token
    .toLowerCase()
    .replace(/^[$€£¥]/, '')
    .replace(/(usd|eur|gbp|dollars?|euros?|bucks)$/, '');
  if (t in SMALL_NUMBERS) return SMALL_NUMBERS[t];
  const m = /^(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(k|m)?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1].replace(/,/g, ''));
  return m[2] === 'k' ? n * 1000 : m[2] === 'm' ? n * 1_000_000 : n;
}

/** lower_snake_case of free text, for step ids and var names. */
export function snake(text: string, max = 40): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, max)
    .replace(/_+$/, '');
  return /^[a-z_]/.test(s) ? s : `s_${s}`;
}

/** Words whose typos are worth fixing before parsing: schedules, sequencing, conditions. */
const VOCABULARY = [
  'every',
  'each',
  'daily',
  'hourly',
  'weekly',
  'monthly',
  'nightly',
  'minutes',
  'minute',
  'hours',
  'hour',
  'weekday',
  'weekdays',
  'weekend',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
  'morning',
  'evening',
  'midnight',
  'noon',
  'otherwise',
  'unless',
  'then',
  'after',
  'wait',
  'whenever',
  'when',
  'only',
  'over',
  'above',
  'below',
  'under',
  'least',
  'greater',
  'total',
  'amount',
  'country',
  'customer',
  'order',
  'orders',
  'webhook',
  'notify',
  'create',
  'send',
  'email',
  'message',
  'summary',
  'payment',
  'request',
];

/** Fixes typos of VOCABULARY words ("evry" → "every"), leaving #channels, URLs and quotes alone. */
export function correctTypos(text: string): string {
  return text.replace(/(https?:\/\/\S+|'[^']*'|"[^"]*"|#[\w-]+)|\b([A-Za-z]{4,})\b/g, (whole, kept, word) => {
    if (kept) return whole;
    const lower = word.toLowerCase();
    if (VOCABULARY.includes(lower) || STOPWORDS.has(lower)) return whole;
    // "created", "orders", "emails" are words, not slips.
    if (VOCABULARY.some((v) => lower.startsWith(v) || v.startsWith(lower))) return whole;
    const hits = VOCABULARY.filter(
      (v) => v.length >= 5 && Math.abs(v.length - lower.length) <= 1 && sameWord(lower, v),
    );
    // A dropped letter is the commonest slip: "weekdy" is "weekday", not "weekly".
    const hit =
      hits.find((v) => isSubsequence(lower, v)) ??
      hits.sort((a, b) => editDistance(lower, a) - editDistance(lower, b))[0];
    return hit ?? whole;
  });
}

function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (const ch of long) if (ch === short[i]) i++;
  return i === short.length;
}
