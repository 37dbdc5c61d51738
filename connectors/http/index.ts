/**
 * `http.request`: call any HTTP API. The URL comes from the workflow author, so every
 * hop (redirects included) passes the SSRF guard unless the deployment allows private
 * networks.
 */
import { z } from 'zod';
import {
  ActionSpec,
  ConnectorAdapter,
  ConnectorError,
  assertPublicUrl,
  describeUrl,
  errorForStatus,
  fetchText,
  type ActionInput,
  type ExecutionContext,
} from '../sdk';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const Scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' });
const MAX_REDIRECTS = 5;

export const HttpRequest = ActionSpec({
  description: 'Send an HTTP request and return the status, headers and body (JSON parsed when the response is JSON).',
  inputs: z
    .object({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
      url: z.url({ error: 'Invalid URL' }).describe('Absolute http(s) URL'),
      headers: z.record(z.string(), Scalar).optional().describe('Request headers'),
      query: z
        .record(z.string(), z.union([Scalar, z.array(Scalar)]))
        .optional()
        .describe('Appended to the URL query string'),
      json: z.unknown().optional().describe('Sent as a JSON body (sets Content-Type: application/json)'),
      body: z.string().optional().describe('Sent as the raw body; use either json or body'),
      timeoutMs: z.int().min(1).max(120_000).default(30_000).describe('Give up (retryable) after this long'),
    })
    .superRefine((p, ctx) => {
      for (const [name, value] of Object.entries(p.headers ?? {})) {
        if (!HEADER_NAME.test(name))
          ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'not a valid header name' });
        if (/[\r\n\0]/.test(String(value)))
          ctx.addIssue({
            code: 'custom',
            path: ['headers', name],
            message: 'header values cannot contain line breaks',
          });
      }
      if (p.json !== undefined && p.body !== undefined)
        ctx.addIssue({ code: 'custom', path: ['body'], message: 'give either json or body, not both' });
      if ((p.method === 'GET' || p.method === 'HEAD') && (p.json !== undefined || p.body !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [p.json !== undefined ? 'json' : 'body'],
          message: `a ${p.method} request cannot have a body`,
        });
      }
    }),
  outputs: z.object({
    status: z.int(),
    headers: z.record(z.string(), z.string()),
    body: z.unknown().describe('Parsed JSON for JSON responses, else the text'),
  }),
  // The step's own limit is the request's: a lost attempt is re-sent soon after it passes.
  timeoutMs: (params) => (typeof params.timeoutMs === 'number' ? params.timeoutMs : undefined),
});

export class HttpConnector extends ConnectorAdapter {
  readonly code = 'http';
  readonly name = 'HTTP';
  readonly description = 'Call any HTTP API.';
  readonly actions = { request: HttpRequest };

  async execute(action: string, params: ActionInput<typeof HttpRequest>, ctx: ExecutionContext) {
    if (action !== 'request') throw new ConnectorError(`http has no action "${action}"`, { code: 'UNKNOWN_ACTION' });
    return request(params, ctx);
  }
}

async function request(p: ActionInput<typeof HttpRequest>, ctx: ExecutionContext) {
  let url = new URL(p.url);
  for (const [key, value] of Object.entries(p.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(p.headers ?? {})) headers.set(name, String(value));
  // The same key on every attempt of this step lets the remote drop duplicates.
  if (!headers.has('idempotency-key')) headers.set('idempotency-key', ctx.idempotencyKey);
  if (!headers.has('user-agent')) headers.set('user-agent', 'Automate-Connector/1 (+http)');
  let body: string | undefined = p.body;
  if (p.json !== undefined) {
    body = JSON.stringify(p.json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  let method: string = p.method;
  const deadline = Date.now() + p.timeoutMs;

  // Redirects are followed by hand so that each hop passes the SSRF guard.
  for (let hop = 0; ; hop++) {
    assertPublicUrl(url, ctx);
    const timeoutMs = Math.max(1, deadline - Date.now());
    const { response, text } = await fetchText(ctx, url, { method, headers, body, redirect: 'manual' }, { timeoutMs });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      if (hop >= MAX_REDIRECTS) {
        throw new ConnectorError(`${method} ${describeUrl(url)}: more than ${MAX_REDIRECTS} redirects`, {
          code: 'TOO_MANY_REDIRECTS',
          status: response.status,
        });
      }
      const next = new URL(location, url);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers.delete('content-type');
      }
      // Never carry credentials to another origin.
      if (next.origin !== url.origin)
        for (const h of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(h);
      url = next;
      continue;
    }
    if (response.status >= 400) throw errorForStatus(response, text, `${method} ${describeUrl(url)}`);
    return { status: response.status, headers: Object.fromEntries(response.headers), body: parseBody(response, text) };
  }
}

function parseBody(response: Response, text: string): unknown {
  const type = response.headers.get('content-type') ?? '';
  if (!/^application\/([\w.-]+\+)?json\b/i.test(type.trim())) return text;
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
