import { describe, expect, it } from 'vitest';
import { ConnectorError, catalog, runAction } from '..';
import { testContext } from '../testing/context';
import { requests, script, stubUrl, uniquePath } from '../testing/stub-client';

/** The stub listens on 127.0.0.1, so these calls need the private network allowed. */
const local = (overrides = {}) => testContext({ allowPrivateNetwork: true, ...overrides });
const request = (params: Record<string, unknown>, ctx = local()) =>
  runAction('http', 'request', params, ctx) as Promise<any>;

async function rejection(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err, 'expected the action to fail').toBeInstanceOf(ConnectorError);
  return err;
}

describe('http.request: happy path', () => {
  it('sends method, query, headers, JSON body and the Idempotency-Key', async () => {
    const path = uniquePath();
    const ctx = local({ idempotencyKey: 'run-1:notify_sales' });
    const out = await request(
      {
        method: 'POST',
        url: `${stubUrl()}${path}?a=1`,
        query: { b: 2, tags: ['x', 'y'] },
        headers: { Authorization: 'Bearer t0k' },
        json: { text: 'High value order', total: 1200 },
      },
      ctx,
    );
    expect(out.status).toBe(200);
    expect(out.headers['content-type']).toMatch(/application\/json/);
    expect(out.body).toMatchObject({ ok: true, method: 'POST', path, query: { a: '1', b: '2', tags: ['x', 'y'] } });

    const [seen] = await requests(path);
    expect(seen.method).toBe('POST');
    expect(seen.headers['idempotency-key']).toBe('run-1:notify_sales');
    expect(seen.headers.authorization).toBe('Bearer t0k');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.body).toEqual({ text: 'High value order', total: 1200 });
  });

  it('defaults to GET and returns text bodies as text', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, headers: { 'content-type': 'text/html' }, body: '<p>hi</p>' }]);
    const out = await request({ url: stubUrl() + path });
    expect(out).toMatchObject({ status: 200, body: '<p>hi</p>' });
    expect((await requests(path))[0].method).toBe('GET');
  });

  it('sends a raw string body as is', async () => {
    const path = uniquePath();
    await request({
      method: 'PUT',
      url: stubUrl() + path,
      body: 'a=1&b=2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const [seen] = await requests(path);
    expect([seen.method, seen.body, seen.headers['content-type']]).toEqual([
      'PUT',
      'a=1&b=2',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('keeps an Idempotency-Key the workflow sets itself', async () => {
    const path = uniquePath();
    await request({ method: 'POST', url: stubUrl() + path, headers: { 'Idempotency-Key': 'order-42' }, json: {} });
    expect((await requests(path))[0].headers['idempotency-key']).toBe('order-42');
  });

  it('sends the same Idempotency-Key on every attempt of a step', async () => {
    const path = uniquePath();
    const key = `run-${crypto.randomUUID()}:step`;
    await request({ method: 'POST', url: stubUrl() + path, json: {} }, local({ idempotencyKey: key, attempt: 1 }));
    await request({ method: 'POST', url: stubUrl() + path, json: {} }, local({ idempotencyKey: key, attempt: 2 }));
    expect((await requests(path)).map((r) => r.headers['idempotency-key'])).toEqual([key, key]);
  });

  it('answers HEAD and empty JSON bodies without failing', async () => {
    const path = uniquePath();
    const head = await request({ method: 'HEAD', url: stubUrl() + path });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    await script(path, [{ status: 204, headers: { 'content-type': 'application/json' } }]);
    expect((await request({ method: 'DELETE', url: stubUrl() + path })).body).toBeNull();
  });

  it('follows redirects, switching POST to GET on 303', async () => {
    const [from, to] = [uniquePath(), uniquePath()];
    await script(from, [{ status: 303, headers: { location: to } }]);
    const out = await request({ method: 'POST', url: stubUrl() + from, json: { a: 1 } });
    expect(out.body).toMatchObject({ method: 'GET', path: to });
  });
});

describe('http.request: failures', () => {
  it('503 is retryable and carries Retry-After', async () => {
    const path = uniquePath();
    await script(path, [{ status: 503, headers: { 'retry-after': '12' }, body: 'maintenance' }]);
    const err = await rejection(request({ url: stubUrl() + path }));
    expect(err).toMatchObject({ retryable: true, status: 503, retryAfterMs: 12_000, code: 'HTTP_503' });
    expect(err.message).toContain('maintenance');
  });

  it('429 is retryable and honours an HTTP-date Retry-After', async () => {
    const path = uniquePath();
    const at = new Date(Date.now() + 60_000).toUTCString();
    await script(path, [{ status: 429, headers: { 'retry-after': at } }]);
    const err = await rejection(request({ url: stubUrl() + path }));
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThan(55_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('408 and 500 are retryable', async () => {
    for (const status of [408, 500]) {
      const path = uniquePath();
      await script(path, [{ status }]);
      expect((await rejection(request({ url: stubUrl() + path }))).retryable).toBe(true);
    }
  });

  it('400 is not retryable and says why, with a snippet of the body', async () => {
    const path = uniquePath();
    await script(path, [{ status: 400, body: { error: 'sku ABC-1 is unknown' } }]);
    const err = await rejection(request({ method: 'POST', url: `${stubUrl()}${path}?token=hidden`, json: {} }));
    expect(err).toMatchObject({ retryable: false, status: 400, code: 'HTTP_400' });
    expect(err.message).toContain(`POST ${stubUrl()}${path} answered 400`);
    expect(err.message).toContain('sku ABC-1 is unknown');
    expect(err.message).not.toContain('hidden');
  });

  it('404 is not retryable', async () => {
    const path = uniquePath();
    await script(path, [{ status: 404 }]);
    expect((await rejection(request({ url: stubUrl() + path }))).retryable).toBe(false);
  });

  it('a timeout is retryable', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, delayMs: 3000 }]);
    const err = await rejection(request({ url: stubUrl() + path, timeoutMs: 200 }));
    expect(err).toMatchObject({ retryable: true, code: 'TIMEOUT' });
  });

  it('a refused connection is retryable', async () => {
    // Port 9 (discard) has no listener here.
    const err = await rejection(request({ url: 'http://127.0.0.1:9/' }));
    expect(err).toMatchObject({ retryable: true, code: 'NETWORK' });
  });
});

describe('http.request: SSRF guard', () => {
  it('refuses private and metadata addresses without sending anything', async () => {
    const path = uniquePath();
    for (const url of [
      stubUrl() + path,
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:8787/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.0.0.5/',
    ]) {
      const err = await rejection(request({ url }, testContext({ allowPrivateNetwork: false })));
      expect(err).toMatchObject({ retryable: false, code: 'BLOCKED_URL' });
    }
    expect(await requests(path)).toHaveLength(0);
  });

  it('reaches the same private address when the deployment allows it', async () => {
    const path = uniquePath();
    const out = await request({ url: stubUrl() + path }, testContext({ allowPrivateNetwork: true }));
    expect(out.status).toBe(200);
    expect(await requests(path)).toHaveLength(1);
  });

  it('refuses non-http schemes', async () => {
    const err = await rejection(request({ url: 'file:///etc/passwd' }));
    expect(err).toMatchObject({ retryable: false, code: 'BLOCKED_URL' });
  });

  it('checks every redirect hop: a public URL cannot bounce into the private network', async () => {
    // A "public" service redirecting to the metadata endpoint, simulated with an injected fetch.
    const hops: string[] = [];
    const fakeFetch = (async (input: RequestInfo | URL) => {
      hops.push(String(input));
      return new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
    }) as typeof fetch;
    const err = await rejection(request({ url: 'https://public.example.com/r' }, testContext({ fetch: fakeFetch })));
    expect(err).toMatchObject({ retryable: false, code: 'BLOCKED_URL' });
    expect(err.message).toContain('169.254.169.254');
    expect(hops).toEqual(['https://public.example.com/r']);
  });

  it('drops credentials when a redirect leaves the origin', async () => {
    const seen: Headers[] = [];
    const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Headers(init?.headers));
      if (String(input).startsWith('https://a.example.com'))
        return new Response(null, { status: 307, headers: { location: 'https://b.example.com/x' } });
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    await request(
      { url: 'https://a.example.com/', headers: { Authorization: 'Bearer secret' } },
      testContext({ fetch: fakeFetch }),
    );
    expect(seen.map((h) => h.get('authorization'))).toEqual(['Bearer secret', null]);
  });

  it('stops after 5 redirects', async () => {
    const fakeFetch = (async (input: RequestInfo | URL) =>
      new Response(null, { status: 302, headers: { location: `${String(input)}x` } })) as typeof fetch;
    const err = await rejection(request({ url: 'https://loop.example.com/' }, testContext({ fetch: fakeFetch })));
    expect(err).toMatchObject({ retryable: false, code: 'TOO_MANY_REDIRECTS' });
  });
});

describe('http.request: params', () => {
  it('names the bad param', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'not a url' }, /^params\.url: Invalid URL$/],
      [{ url: 'https://x.test', method: 'FETCH' }, /^params\.method: /],
      [{ url: 'https://x.test', timeoutMs: 500_000 }, /^params\.timeoutMs: /],
      [{ url: 'https://x.test', method: 'POST', json: {}, body: 'x' }, /^params\.body: give either json or body/],
      [{ url: 'https://x.test', json: { a: 1 } }, /^params\.json: a GET request cannot have a body/],
      [
        { url: 'https://x.test', headers: { 'bad header': 'x' } },
        /^params\.headers\.bad header: not a valid header name/,
      ],
      [
        { url: 'https://x.test', headers: { 'X-A': 'a\r\nX-Injected: 1' } },
        /^params\.headers\.X-A: header values cannot contain line breaks/,
      ],
    ];
    for (const [params, message] of cases) {
      const err = await rejection(request(params));
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(message);
    }
  });

  it('rejects an unknown action, non-retryable', async () => {
    const err = await rejection(runAction('http', 'get', { url: 'https://x.test' }, local()));
    expect(err).toMatchObject({ retryable: false, code: 'UNKNOWN_ACTION' });
  });

  it('is in the catalog with JSON Schemas', () => {
    const http = catalog().find((c) => c.code === 'http')!;
    const action = http.actions.find((a) => a.name === 'request')!;
    expect(action.inputs).toMatchObject({
      type: 'object',
      required: ['url'],
      properties: {
        method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], default: 'GET' },
        timeoutMs: { default: 30_000, maximum: 120_000 },
      },
    });
    expect(action.outputs).toMatchObject({ type: 'object', required: ['status', 'headers', 'body'] });
  });
});
