/**
 * fast-check arbitraries for hostile requests. Generated values are small descriptors;
 * `bodyText` turns them into the bytes sent, so a counterexample prints in a line even
 * when its body is a megabyte or 20,000 levels deep.
 */
import fc from 'fast-check';

/** Keys that trip code treating JSON objects as JavaScript objects, and keys our own schemas know. */
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '$secret',
  'key',
  'name',
  'steps',
  'trigger',
  'payload',
  'rule',
  'data',
  'value',
  'email',
  'password',
  'scopes',
  'role',
  'tenant',
  'ui',
  'vars',
];

/** Scalars past the edges: huge, negative zero, non-finite spelled as strings, control and astral characters. */
const SCALARS: unknown[] = [
  1e308,
  -1e308,
  -0,
  0,
  Number.MAX_SAFE_INTEGER + 2,
  -1,
  5e-324,
  'NaN',
  'Infinity',
  '-Infinity',
  '1e308',
  '',
  '\u0000',
  '\ud800',
  '😀',
  'é'.repeat(3),
  '{{ secrets.ERP_API_KEY }}',
  '{{ trigger.body.__proto__ }}',
  '<script>alert(1)</script>',
  "'; DROP TABLE runs; --",
  '../../etc/passwd',
  true,
  false,
  null,
  [],
  {},
];

const key = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 12, unit: 'binary' }));
const scalar = fc.oneof(
  fc.constantFrom(...SCALARS),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.double(),
  fc.integer(),
);

/** Any JSON, a few levels deep, made of hostile keys and scalars. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  /** The route's valid body with one field replaced by a hostile value (or removed). */
  | { kind: 'mutated'; field: string; value: unknown; drop: boolean }
  | { kind: 'deep'; field: string; levels: number; shape: 'array' | 'object' }
  /** One string of `bytes` bytes (within the 1 MiB body limit) made of `unit`. */
  | { kind: 'huge'; field: string; bytes: number; unit: string }
  | { kind: 'raw'; text: string }
  | { kind: 'form'; pairs: [string, string][] };

const RAW_TEXTS = [
  '',
  '{',
  '}',
  'null',
  '[]',
  '"x"',
  '{"a":1}}',
  'NaN',
  '1e999',
  '-0',
  '{"limit": 1e999, "n": -0}',
  '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}',
  '\u0000',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '[1,2,',
];

export const bodySpec = (fields: string[]): fc.Arbitrary<BodySpec> => {
  // Mostly the route's own fields, so hostile values get past the schema's first check.
  const field = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(fields.length ? fields : ['payload'])) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'x') },
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'none' } as const) },
    { weight: 2, arbitrary: hostileJson.map((value) => ({ kind: 'json', value }) as const) },
    {
      weight: 5,
      arbitrary: fc
        .record({ field, value: hostileJson, drop: fc.boolean() })
        .map((r) => ({ kind: 'mutated', ...r }) as const),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({
          field,
          levels: fc.oneof(fc.integer({ min: 60, max: 70 }), fc.integer({ min: 70, max: 20_000 })),
          shape: fc.constantFrom('array', 'object'),
        })
        .map((r) => ({ kind: 'deep', ...r }) as const),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          field,
          bytes: fc.integer({ min: 50_000, max: 1_000_000 }),
          unit: fc.constantFrom('a', 'é', '中', '😀', '\u0001', '\\', '"'),
        })
        .map((r) => ({ kind: 'huge', ...r }) as const),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.constantFrom(...RAW_TEXTS), fc.string({ maxLength: 60, unit: 'binary' }))
        .map((text) => ({ kind: 'raw', text }) as const),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string()), fc.string({ unit: 'binary' })), {
          maxLength: 5,
        })
        .map((pairs) => ({ kind: 'form', pairs }) as const),
    },
  );
};

const JSON_ESCAPES: Record<string, string> = { '\u0001': '\\u0001', '\\': '\\\\', '"': '\\"' };

/** The route's valid body as JSON text with `field` set to `json` (text: too deep to build as a value). */
function withField(valid: unknown, field: string, json: string): string {
  const base = valid && typeof valid === 'object' && !Array.isArray(valid) ? { ...valid } : {};
  delete (base as Record<string, unknown>)[field];
  const rest = JSON.stringify(base);
  return `{${JSON.stringify(field)}:${json}${rest === '{}' ? '' : `,${rest.slice(1, -1)}`}}`;
}

/** The bytes a spec sends; `valid` is the route's well-formed body, for mutations. */
export function bodyText(spec: BodySpec, valid: unknown): string | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'json':
      return JSON.stringify(spec.value);
    case 'mutated': {
      const base = valid && typeof valid === 'object' && !Array.isArray(valid) ? { ...valid } : {};
      if (spec.drop) delete (base as Record<string, unknown>)[spec.field];
      // defineProperty: a "__proto__" field must be an own key, as JSON.parse makes it.
      else Object.defineProperty(base, spec.field, { value: spec.value, enumerable: true, writable: true });
      return JSON.stringify(base);
    }
    case 'deep': {
      const [open, close] = spec.shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
      const leaf = spec.shape === 'array' ? '' : '1';
      return withField(valid, spec.field, `${open.repeat(spec.levels)}${leaf}${close.repeat(spec.levels)}`);
    }
    case 'huge': {
      const written = JSON_ESCAPES[spec.unit] ?? spec.unit;
      const rest = withField(valid, spec.field, '""');
      const count = Math.floor((spec.bytes - rest.length) / new TextEncoder().encode(written).byteLength);
      return withField(valid, spec.field, `"${written.repeat(Math.max(0, count))}"`);
    }
    case 'raw':
      return spec.text;
    case 'form':
      return new URLSearchParams(spec.pairs).toString();
  }
}

export const contentType: fc.Arbitrary<string> = fc.oneof(
  { weight: 7, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/vnd.api+json',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=zzz',
      '*/*',
      'garbage',
      '',
    ),
  },
);

export type AuthSpec =
  | 'token'
  | 'session'
  | 'session-no-origin'
  | 'none'
  | 'bad-token'
  | 'malformed'
  | 'basic'
  | 'huge';
export const authSpec: fc.Arbitrary<AuthSpec> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('token' as const) },
  { weight: 2, arbitrary: fc.constant('session' as const) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<AuthSpec>('session-no-origin', 'none', 'bad-token', 'malformed', 'basic', 'huge'),
  },
);

const QUERY_KEYS = ['publish', 'limit', 'cursor', 'status', 'workflow', 'version', 'run', 'action', '__proto__'];
const QUERY_VALUES = [
  'true',
  'maybe',
  '-1',
  '0',
  '1e308',
  'NaN',
  '99999999999999999999',
  '',
  '%00',
  '😀',
  'x'.repeat(500),
];
export const querySpec = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 8 })),
    fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ maxLength: 30, unit: 'binary' })),
  ),
  { maxLength: 3 },
);

/** Path parameter values: the tenant's real ones (by name), another tenant's, and hostile strings. */
export const paramSpec = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'real' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'foreign' } as const) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom('nope', '..', '__proto__', 'constructor', '0', '-1', '1e308', 'NaN', 'a'.repeat(300), '%00'),
        fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
      )
      .map((value) => ({ kind: 'random', value }) as const),
  },
);
export type ParamSpec = { kind: 'real' } | { kind: 'foreign' } | { kind: 'random'; value: string };

/** Lone surrogates replaced, so a generated string can go into a URL. */
export const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
