/**
 * Scrubs resolved secret values out of anything Automate keeps or shows: step outputs,
 * error messages and stacks, audit context, logs. It matches the exact values a step
 * resolved (and the encodings connectors commonly put them through), never field-name
 * patterns: a connector that echoes its API key inside an error message is caught
 * whatever it calls the field.
 *
 * Covered per value (and per value with surrounding whitespace trimmed, and with every
 * run of whitespace collapsed to one space, as error snippets print bodies):
 * - raw;
 * - URL-encoded: encodeURIComponent (upper- and lower-case hex), encodeURI, and form
 *   encoding (URLSearchParams: space as "+");
 * - JSON string-escaped, once and twice (a JSON body quoted inside a JSON string), and
 *   with non-ASCII as \uXXXX;
 * - HTML/XML-escaped (&quot; / &#34;, &#39; / &#x27; / &apos;, &amp;, &lt;, &gt;);
 * - base64 and base64url of the UTF-8 bytes, padded or not, standalone; and the part of
 *   the encoding that depends only on the value at each of the three byte alignments,
 *   so a value inside a longer base64 string (`Basic base64(user:secret)`) is caught too.
 *
 * Limits, on purpose: values shorter than MIN_SCRUB_LENGTH are not scrubbed (masking
 * every "1" or "abc" in an output would wreck it, and the pattern of masks would give
 * the value away anyway; such values are not secrets worth the name). Inside a longer
 * base64 string the one or two characters that mix the value's first or last byte with
 * its neighbours stay visible: a few bits, not the value. Other transformations (hex,
 * hashing, changed case, encryption by the connector) are not recognised, and neither is
 * a value cut short (a message snippet truncated in the middle of it leaves its prefix):
 * connectors should scrub or not echo what they received before truncating.
 */

/** Values shorter than this are not scrubbed; see the module comment. */
export const MIN_SCRUB_LENGTH = 4;
/** The mask that replaces a value, also what every API response shows for a stored value. */
export const MASK = '********';
/** Fragments of a longer base64 string must be at least this long, so random data does not match. */
const MIN_BASE64_FRAGMENT = 8;

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const toUrlAlphabet = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The base64 characters that depend only on `bytes` when they start `shift` bytes into
 * a 3-byte group: what any base64 string containing them at that alignment contains.
 */
function base64Core(bytes: Uint8Array, shift: 0 | 1 | 2): string {
  const padded = new Uint8Array(shift + bytes.length);
  padded.set(bytes, shift);
  const b64 = toBase64(padded);
  const first = Math.ceil((8 * shift) / 6);
  const end = Math.floor((8 * (shift + bytes.length)) / 6);
  return b64.slice(first, end);
}

function htmlEscapes(v: string): string[] {
  const base = v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return [
    base.replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
    base.replace(/"/g, '&#34;').replace(/'/g, '&#x27;'),
    base.replace(/"/g, '&quot;').replace(/'/g, '&apos;'),
  ];
}

function jsonEscape(v: string): string {
  return JSON.stringify(v).slice(1, -1);
}

/** Every form of one value this redactor looks for. */
export function variantsOf(value: string): string[] {
  const out = new Set<string>();
  const add = (s: string, min = MIN_SCRUB_LENGTH) => {
    if (s.length >= min) out.add(s);
  };
  for (const v of new Set([value, value.trim(), value.replace(/\s+/g, ' ').trim()])) {
    if (v.length < MIN_SCRUB_LENGTH) continue;
    add(v);
    const uri = encodeURIComponent(v);
    add(uri);
    add(uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    add(encodeURI(v));
    add(new URLSearchParams({ v }).toString().slice(2));
    const json = jsonEscape(v);
    add(json);
    add(jsonEscape(json));
    add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    for (const h of htmlEscapes(v)) add(h);
    const bytes = encoder.encode(v);
    const b64 = toBase64(bytes);
    for (const s of [b64, b64.replace(/=+$/, '')]) {
      add(s);
      add(toUrlAlphabet(s));
    }
    for (const shift of [0, 1, 2] as const) {
      const core = base64Core(bytes, shift);
      add(core, MIN_BASE64_FRAGMENT);
      add(toUrlAlphabet(core), MIN_BASE64_FRAGMENT);
    }
  }
  return [...out];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const ERROR_FIELDS = ['name', 'message', 'stack', 'cause'];

/** A value cut short by a snippet keeps at least this many characters hidden at the cut. */
export const MIN_EDGE_LENGTH = 6;
/** Where a snippet was cut: an ellipsis, a truncation note, or the end of the text. */
const CUT_AHEAD = '(?=…|\\.\\.\\.|\\s*\\[truncated|$)';

/**
 * Connectors quote remote answers in errors cut to a few hundred characters; a value
 * echoed there may be cut in the middle. Its first characters before the cut (or its
 * last ones at the start of a text cut from the front) are scrubbed too.
 */
function edgePattern(values: readonly string[]): RegExp | null {
  const heads: string[] = [];
  const tails: string[] = [];
  for (const v of values) {
    for (let k = v.length - 1; k >= MIN_EDGE_LENGTH; k--) {
      heads.push(v.slice(0, k));
      tails.push(v.slice(v.length - k));
    }
  }
  if (!heads.length) return null;
  const alt = (xs: string[]) =>
    [...new Set(xs)]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|');
  return new RegExp(`(?:${alt(heads)})${CUT_AHEAD}|^(?:${alt(tails)})`, 'g');
}

export class Redactor {
  private readonly variants: readonly string[];
  private readonly pattern: RegExp | null;
  private readonly raw: readonly string[];
  private readonly edges: RegExp | null;

  private constructor(variants: Iterable<string>, raw: Iterable<string> = []) {
    // Longest first, so a value's longer encodings win over a shorter one inside them.
    this.variants = [...new Set(variants)].sort((a, b) => b.length - a.length);
    this.pattern = this.variants.length ? new RegExp(this.variants.map(escapeRegExp).join('|'), 'g') : null;
    this.raw = [...new Set(raw)].filter((v) => v.length > MIN_EDGE_LENGTH);
    this.edges = edgePattern(this.raw);
  }

  /** A redactor for these plaintext values. */
  static of(values: Iterable<string>): Redactor {
    const variants: string[] = [];
    const raw = [...values];
    for (const v of raw) variants.push(...variantsOf(v));
    return new Redactor(variants, raw);
  }

  /** Scrubs nothing. */
  static readonly none = new Redactor([]);

  /** One redactor covering the values of both (e.g. every step of a run so far). */
  merge(other: Redactor): Redactor {
    if (!other.variants.length) return this;
    if (!this.variants.length) return other;
    return new Redactor([...this.variants, ...other.variants], [...this.raw, ...other.raw]);
  }

  /** True when there is nothing to scrub. */
  get isEmpty(): boolean {
    return this.pattern === null;
  }

  /** The text with every known form of every value replaced by MASK. */
  scrubText(text: string): string {
    if (!this.pattern || typeof text !== 'string') return text;
    const whole = text.replace(this.pattern, MASK);
    return this.edges ? whole.replace(this.edges, MASK) : whole;
  }

  /**
   * A deep copy with every string, object key and number that contains a value scrubbed.
   * Errors keep their prototype (a ConnectorError stays one) with message, stack, cause
   * and own fields scrubbed. Input is never modified.
   */
  scrub(value: unknown): unknown {
    if (!this.pattern) return value;
    return this.walk(value, new WeakMap());
  }

  private walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.scrubText(value);
    if (typeof value === 'number' || typeof value === 'bigint') {
      // A numeric secret (a PIN, an account number) echoed back as a number.
      const text = String(value);
      return this.scrubText(text) === text ? value : MASK;
    }
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return seen.get(value);
    if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.walk(item, seen));
      return out;
    }
    if (value instanceof Map) {
      const out = new Map();
      seen.set(value, out);
      for (const [k, v] of value) out.set(this.walk(k, seen), this.walk(v, seen));
      return out;
    }
    if (value instanceof Set) {
      const out = new Set();
      seen.set(value, out);
      for (const v of value) out.add(this.walk(v, seen));
      return out;
    }
    const out = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
    seen.set(value, out);
    // Errors keep message and stack as non-enumerable properties (own or inherited): copy those too.
    const keys =
      value instanceof Error
        ? [...new Set([...Object.getOwnPropertyNames(value), ...ERROR_FIELDS.filter((k) => k in value)])]
        : Object.keys(value);
    for (const k of keys) {
      const desc = Object.getOwnPropertyDescriptor(value, k);
      let v: unknown;
      try {
        v = (value as Record<string, unknown>)[k];
      } catch {
        continue;
      }
      Object.defineProperty(out, this.scrubText(k), {
        value: this.walk(v, seen),
        enumerable: desc?.enumerable ?? true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
}

/** A redactor for the values a step resolved. */
export function createRedactor(values: Iterable<string>): Redactor {
  return Redactor.of(values);
}
