import { describe, expect, it } from 'vitest';
import { script, stubUrl, uniquePath } from '../testing/stub-client';
import { ConnectorError, describeUrl, errorForStatus, fetchText, isRetryableStatus, parseRetryAfter } from '.';

const ctx = { fetch: ((i: RequestInfo | URL, init?: RequestInit) => fetch(i, init)) as typeof fetch };

async function rejection(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err;
}

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 26 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
  });
});

describe('status classification', () => {
  it('retries 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422, 300, 200].some(isRetryableStatus)).toBe(false);
  });
  it('builds errors with the status, a body snippet and Retry-After', () => {
    const err = errorForStatus(
      new Response('', { status: 503, statusText: 'Service Unavailable', headers: { 'retry-after': '3' } }),
      'down  for\nmaintenance',
      'GET https://x.test/a',
    );
    expect(err).toMatchObject({ retryable: true, retryAfterMs: 3000, status: 503, code: 'HTTP_503' });
    expect(err.message).toBe('GET https://x.test/a answered 503 Service Unavailable: down for maintenance');
    const bad = errorForStatus(new Response('', { status: 400 }), 'x'.repeat(500), 'POST https://x.test/b');
    expect(bad.retryable).toBe(false);
    expect(bad.message.length).toBeLessThan(260);
  });
  it('keeps query strings and credentials out of messages', () => {
    expect(describeUrl('https://user:pw@api.example.com/v1/orders?api_key=k#frag')).toBe(
      'https://api.example.com/v1/orders',
    );
  });
});

describe('fetchText against the stub', () => {
  it('returns the response and its text for any status', async () => {
    const path = uniquePath();
    await script(path, [{ status: 404, body: 'nothing here' }]);
    const { response, text } = await fetchText(ctx, stubUrl() + path);
    expect([response.status, text]).toEqual([404, 'nothing here']);
  });

  it('times out as a retryable TIMEOUT', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: 'late', delayMs: 2000 }]);
    const started = Date.now();
    const err = await rejection(fetchText(ctx, stubUrl() + path, {}, { timeoutMs: 150 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).toMatchObject({ retryable: true, code: 'TIMEOUT' });
    expect(err.message).toContain('timed out after 150 ms');
  });

  it('turns a dropped connection into a retryable NETWORK error', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, drop: true }]);
    const err = await rejection(fetchText(ctx, stubUrl() + path));
    expect(err).toMatchObject({ retryable: true, code: 'NETWORK' });
  });

  it('reports the engine cancelling as ABORTED', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, delayMs: 2000 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(fetchText({ ...ctx, signal: controller.signal }, stubUrl() + path));
    expect(err).toMatchObject({ retryable: true, code: 'ABORTED' });
  });

  it('refuses bodies over the size cap', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, body: 'x'.repeat(5000) }]);
    const err = await rejection(fetchText(ctx, stubUrl() + path, {}, { maxBytes: 1000 }));
    expect(err).toMatchObject({ retryable: false, code: 'RESPONSE_TOO_LARGE' });
  });
});
