import { describe, expect, it } from 'vitest';
import { erpOrders, requests, reset, script, stubUrl, uniquePath } from './stub-client';

describe('stub server, seen from inside workerd', () => {
  it('echoes /http/* requests and records them per path', async () => {
    const path = uniquePath();
    const res = await fetch(`${stubUrl()}${path}?a=1&a=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'key-1' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(200);
    const echo = await res.json<any>();
    expect(echo).toMatchObject({ ok: true, method: 'POST', path, query: { a: ['1', '2'] }, body: { hello: 'world' } });
    expect(echo.headers['idempotency-key']).toBe('key-1');

    const seen = await requests(path);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', path, body: { hello: 'world' } });
    expect(typeof seen[0].at).toBe('number');
  });

  it('plays scripted responses in order, then falls back to the default', async () => {
    const path = uniquePath();
    await script(path, [
      { status: 503, headers: { 'retry-after': '7' }, body: 'busy' },
      { status: 201, body: { created: true } },
    ]);
    const first = await fetch(stubUrl() + path);
    expect([first.status, first.headers.get('retry-after'), await first.text()]).toEqual([503, '7', 'busy']);
    const second = await fetch(stubUrl() + path);
    expect([second.status, await second.json()]).toEqual([201, { created: true }]);
    const third = await fetch(stubUrl() + path);
    expect((await third.json<any>()).ok).toBe(true);
    expect(await requests(path)).toHaveLength(3);
  });

  it('repeats the last scripted response when asked to', async () => {
    const path = uniquePath();
    await script(path, [{ status: 429 }], 'repeat-last');
    for (let i = 0; i < 3; i++) expect((await fetch(stubUrl() + path)).status).toBe(429);
  });

  it('resets one path without touching others', async () => {
    const [a, b] = [uniquePath(), uniquePath()];
    await fetch(stubUrl() + a);
    await fetch(stubUrl() + b);
    await reset(a);
    expect(await requests(a)).toHaveLength(0);
    expect(await requests(b)).toHaveLength(1);
  });

  it('drops the connection when scripted to', async () => {
    const path = uniquePath();
    await script(path, [{ status: 200, drop: true }]);
    await expect(fetch(stubUrl() + path)).rejects.toThrow();
  });

  it('lists no ERP orders for a fresh namespace', async () => {
    expect(await erpOrders(`ns-${crypto.randomUUID()}`)).toEqual([]);
  });
});
