/**
 * `{{ path }}` templates (docs/workflow-file.md#templates). A template that is the whole
 * string keeps the value's type; inside a longer string values are interpolated (objects as JSON).
 * `secrets.*` can be rendered as markers instead of values (secret-markers.ts), so
 * plaintext never reaches the run's state or records.
 */
const TEMPLATE = /\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+|\[\d+\])*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+|\[\d+\])*)\s*\}\}$/;

export type TemplateScope = Record<string, unknown>;

/** Splits `steps.a.output.items[0].sku` into keys. */
export function pathKeys(path: string): string[] {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean);
}

export function lookup(scope: unknown, path: string): unknown {
  let cur: unknown = scope;
  for (const key of pathKeys(path)) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function interpolate(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface RenderOptions {
  /**
   * Replaces `{{ secrets.NAME }}` with this marker instead of a value. Markers carry a
   * per-run nonce, so text that arrives in data (a webhook body saying
   * "{{ secrets.API_KEY }}") can never be turned into a secret later: only markers
   * written from the workflow's own templates are filled in.
   */
  secretMarker?: (name: string) => string;
}

export function renderString(text: string, scope: TemplateScope, opts: RenderOptions = {}): unknown {
  const secretName = (path: string) => {
    const keys = pathKeys(path);
    return keys[0] === 'secrets' && opts.secretMarker ? keys.slice(1).join('.') : null;
  };
  const whole = WHOLE.exec(text);
  if (whole) {
    const name = secretName(whole[1]);
    if (name !== null) return opts.secretMarker!(name);
    const v = lookup(scope, whole[1]);
    return v === undefined ? null : v;
  }
  if (!text.includes('{{')) return text;
  return text.replace(TEMPLATE, (_match, path: string) => {
    const name = secretName(path);
    return name !== null ? opts.secretMarker!(name) : interpolate(lookup(scope, path));
  });
}

/** Deeply replaces strings; used to fill or describe secret markers. */
export function mapStrings(value: unknown, fn: (s: string) => unknown): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out;
  }
  return value;
}

/** Renders every string inside a JSON value. */
export function render(value: unknown, scope: TemplateScope, opts: RenderOptions = {}): unknown {
  if (typeof value === 'string') return renderString(value, scope, opts);
  if (Array.isArray(value)) return value.map((v) => render(v, scope, opts));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = render(v, scope, opts);
    return out;
  }
  return value;
}

/** The path of every `{{ path }}` in one string, in order: the import checks read templates exactly as rendering does. */
export function templatePaths(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((m) => m[1]);
}
