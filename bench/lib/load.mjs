/**
 * Closed-loop load at a fixed concurrency: `concurrency` workers each send their next
 * request as soon as their previous one is answered, until `count` requests are done.
 * node:http with a keep-alive pool (cheaper per request than fetch, which matters when
 * the load generator shares 2 cores with workerd). Bounded by count and a per-request
 * timeout, so it always ends.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const REQUEST_TIMEOUT_MS = 30_000;

function send(agent, url, { method = 'GET', headers = {}, body }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
            end: Date.now(),
          }),
        );
        res.on('error', (e) =>
          resolve({ status: 0, body: String(e), ms: performance.now() - started, end: Date.now() }),
        );
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) =>
      resolve({ status: 0, body: String(e.message ?? e), ms: performance.now() - started, end: Date.now() }),
    );
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * @param {string} baseUrl
 * @param {number} count
 * @param {number} concurrency
 * @param {(i: number) => {method?: string, path: string, headers?: object, body?: string}} make the i-th request
 * @returns {Promise<{results: {status:number, body:string, ms:number, end:number}[], wallMs: number, startedAt: number}>}
 */
export async function closedLoop(baseUrl, count, concurrency, make) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const results = new Array(count);
  let next = 0;
  const startedAt = Date.now();
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const r = make(i);
      results[i] = await send(agent, `${baseUrl}${r.path}`, r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wallMs = performance.now() - t0;
  agent.destroy();
  return { results, wallMs, startedAt };
}
