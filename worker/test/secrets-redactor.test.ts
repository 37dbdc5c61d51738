/** The Redactor: exact values and their encodings, anywhere in a value, never by field name. */
import { describe, expect, it } from 'vitest';
import { createRedactor, MASK, Redactor } from '../src/secrets/redactor';

const SECRET = 'k3y/With+Odd"Chars&<ü>=';
const utf8Base64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const base64url = (s: string) => utf8Base64(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A connector error of the kind that leaks: the API echoed the key back. */
class ConnectorError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly response: unknown,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

describe('Redactor.scrubText', () => {
  const r = createRedactor([SECRET]);
  const forms: [string, string][] = [
    ['raw', SECRET],
    ['encodeURIComponent', encodeURIComponent(SECRET)],
    ['lower-case percent-encoding', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form encoding', new URLSearchParams({ k: SECRET }).toString().slice(2)],
    ['base64', utf8Base64(SECRET)],
    ['base64url', base64url(SECRET)],
    ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
    [
      'JSON-escaped twice (a JSON body inside a JSON string)',
      JSON.stringify(JSON.stringify(SECRET).slice(1, -1)).slice(1, -1),
    ],
    ['HTML-escaped', SECRET.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')],
  ];
  it.each(forms)('scrubs the %s form', (_name, form) => {
    const out = r.scrubText(`before ${form} after`);
    expect(out).toBe(`before ${MASK} after`);
  });

  it('scrubs the value inside Basic auth, whatever the user name length', () => {
    for (const user of ['', 'a', 'ab', 'abc', 'user@example.com']) {
      const header = `Authorization: Basic ${utf8Base64(`${user}:${SECRET}`)}`;
      const out = r.scrubText(header);
      expect(out, user).toContain(MASK);
      // What is left is a couple of characters around the mask, not the value's encoding.
      const leftover = out.replace('Authorization: Basic ', '').replace(MASK, '');
      expect(leftover.length, user).toBeLessThanOrEqual(utf8Base64(`${user}:`).length + 4);
    }
  });

  it('scrubs a value with surrounding whitespace as pasted, and trimmed as echoed', () => {
    const pasted = createRedactor(['  pasted-token-value\n']);
    expect(pasted.scrubText('got "pasted-token-value"')).toBe(`got "${MASK}"`);
  });

  it('scrubs a multi-line value as an error snippet prints it, whitespace collapsed', () => {
    const pem = createRedactor(['-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----\n']);
    expect(pem.scrubText('401: -----BEGIN KEY----- MIIEvQIBADANBgkq hkiG9w0BAQEFAASC -----END KEY----- rejected')).toBe(
      `401: ${MASK} rejected`,
    );
  });

  it('leaves unrelated text alone, and values too short to be secrets', () => {
    // A few shared characters are no leak (six or more at a cut are: secrets-redactor-edges.test.ts).
    expect(r.scrubText('nothing to see here: k3y/W and more')).toBe('nothing to see here: k3y/W and more');
    expect(createRedactor(['abc', '1']).scrubText('abc 1 true')).toBe('abc 1 true');
    expect(Redactor.none.scrubText(SECRET)).toBe(SECRET);
  });

  it('covers every value of every merged redactor', () => {
    const both = createRedactor(['first-secret-1']).merge(createRedactor(['second-secret-2']));
    expect(both.scrubText('first-secret-1 second-secret-2')).toBe(`${MASK} ${MASK}`);
  });
});

describe('Redactor.scrub', () => {
  const r = createRedactor([SECRET, '48151623']);

  it('walks objects and arrays, keys included, without touching the input', () => {
    const input = {
      ok: true,
      n: 7,
      list: ['x', `token=${encodeURIComponent(SECRET)}`],
      nested: { [SECRET]: 'as a key', pin: 48151623 },
    };
    const copy = structuredClone(input);
    const out = r.scrub(input);
    expect(out).toEqual({ ok: true, n: 7, list: ['x', `token=${MASK}`], nested: { [MASK]: 'as a key', pin: MASK } });
    expect(input).toEqual(copy);
  });

  it('copes with cycles', () => {
    const a: Record<string, unknown> = { s: SECRET };
    a.self = a;
    const out = r.scrub(a) as Record<string, unknown>;
    expect(out.s).toBe(MASK);
    expect(out.self).toBe(out);
  });

  it('scrubs a connector error that echoes its API key, in message, stack, cause and fields', () => {
    const cause = new Error(`upstream said: invalid key ${SECRET}`);
    const err = new ConnectorError(
      `401 from api.example.com: {"error":"bad key \\"${JSON.stringify(SECRET).slice(1, -1)}\\""}`,
      false,
      {
        headers: { authorization: `Bearer ${SECRET}` },
        body: `api_key=${new URLSearchParams({ k: SECRET }).toString().slice(2)}`,
      },
    );
    Object.defineProperty(err, 'cause', { value: cause, enumerable: false });
    expect(err.stack).toContain('ConnectorError');

    const out = r.scrub(err) as ConnectorError;
    expect(out).toBeInstanceOf(ConnectorError);
    expect(out.retryable).toBe(false);
    expect(out.name).toBe('ConnectorError');
    expect(out.message).toContain(MASK);
    expect(out.stack).toContain(MASK);
    expect((out.cause as Error).message).toBe(`upstream said: invalid key ${MASK}`);
    const everything = JSON.stringify({
      message: out.message,
      stack: out.stack,
      cause: (out.cause as Error).message,
      response: out.response,
    });
    for (const form of [SECRET, encodeURIComponent(SECRET), JSON.stringify(SECRET).slice(1, -1), utf8Base64(SECRET)])
      expect(everything).not.toContain(form);
    // The original is untouched: it may still be needed to decide on a retry.
    expect(err.message).toContain(JSON.stringify(SECRET).slice(1, -1));
  });
});
