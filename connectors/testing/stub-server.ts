/**
 * Local stand-ins for the third-party APIs the built-in connectors talk to, speaking
 * their real protocols on ONE node:http server (127.0.0.1, random port by default):
 *
 * - `/http/*`                    programmable endpoint; echoes the request by default
 * - `/slack[/<ns>]/api/chat.postMessage`  Slack Web API (`xoxb-test-token`)
 * - `/erp[/<ns>]/soap`           a legacy SOAP 1.1 ERP (`erp-test-key`), `GET /erp[/<ns>]/orders`
 * - `/openai[/<ns>]/v1/chat/completions`  an OpenAI-compatible model (`Bearer stub-model-key`)
 *   answering with the completions queued by `POST /__control/completions`
 * - `/mail[/<ns>]/emails`        a Resend-style mail API (`Bearer stub-mail-key`): JSON
 *   `{from, to: [...], subject, text?, html?}` answers `{id}`; the messages are recorded
 * - `/__control/*`               scripts, recorded requests, reset (see below)
 *
 * The optional `<ns>` segment gives a test its own Slack/ERP (own recorded requests,
 * scripts and order book) while test files run in parallel against one server.
 *
 * Control API:
 * - `POST /__control/script {path, responses: [{status, headers?, body?, delayMs?, drop?}], then?}`:
 *   the next requests to `path` get these responses in order (an object body is sent as
 *   JSON; `drop: true` destroys the socket); afterwards `then: 'default'` (the route's
 *   normal behaviour, the default) or `'repeat-last'`. Scripts win over every route.
 * - `GET /__control/requests?path=/http/x`: `[{method, path, query, headers, body, at}]`.
 * - `POST /__control/reset [{path}]`: forget scripts and requests (of one path), orders.
 * - `POST /__control/completions {ns?, answers: [{content, delayMs?, status?}]}`: what the
 *   stub model answers next, in order (`content` is the assistant message text). With
 *   nothing queued it answers 503, so a test never gets an answer it did not script.
 *
 * Node code, self-contained (no relative imports) so that Node can load it directly
 * (`import { startStubServer } from './connectors/testing/stub-server.ts'`) for e2e
 * tests and the benchmark as well as from the vitest global setup.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  delayMs?: number;
  /** Destroy the connection instead of answering (a network error for the client). */
  drop?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the request's content-type is JSON, else the raw text. */
  body: unknown;
  /** Epoch milliseconds. */
  at: number;
}

interface Script {
  responses: ScriptedResponse[];
  then: 'default' | 'repeat-last';
}

interface StubRequest extends RecordedRequest {
  rawBody: string;
}

type Reply = ScriptedResponse;

export const STUB_SLACK_TOKEN = 'xoxb-test-token';
export const STUB_ERP_API_KEY = 'erp-test-key';
export const STUB_MODEL_KEY = 'stub-model-key';
export const STUB_MAIL_KEY = 'stub-mail-key';

export interface ScriptedCompletion {
  /** The assistant message's text (a model's JSON answer, or anything malformed). */
  content: string;
  delayMs?: number;
  /** HTTP status instead of 200 (an error body is sent). */
  status?: number;
}
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startStubServer(opts: { port?: number; host?: string } = {}): Promise<StubServer> {
  const host = opts.host ?? '127.0.0.1';
  const state = new StubState();
  const server = createServer((req, res) => {
    handle(state, req, res).catch((err) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(err?.stack ?? err) } });
      else res.destroy();
    });
  });
  // Idle keep-alive sockets are closed by the client, never by the stub: workerd (KJ's HTTP
  // client, HttpClientSettings.idleTimeout, 5 s) keeps an idle outbound connection pooled and
  // reuses it, so a server that closes at or before that (Node's default is 5 s; this was 1 s)
  // races the next request on that socket, which then fails with "Network connection lost"
  // (bench/README.md, "Findings"). headersTimeout must stay above keepAliveTimeout; close()
  // below ends every socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

class StubState {
  scripts = new Map<string, Script>();
  requests = new Map<string, RecordedRequest[]>();
  slackSeq = 0;
  mailSeq = 0;
  erp = new Map<string, ErpBook>();
  erpSeq = 0;
  completions = new Map<string, ScriptedCompletion[]>();

  record(r: StubRequest) {
    const list = this.requests.get(r.path) ?? [];
    const { rawBody: _raw, ...recorded } = r;
    list.push(recorded);
    this.requests.set(r.path, list);
  }

  /** The next scripted response for `path`, if a script is active. */
  nextScripted(path: string): ScriptedResponse | undefined {
    const script = this.scripts.get(path);
    if (!script) return undefined;
    if (script.responses.length > 1) return script.responses.shift();
    const last = script.responses[0];
    if (script.then === 'default' || !last) this.scripts.delete(path);
    return last;
  }

  book(ns: string): ErpBook {
    let b = this.erp.get(ns);
    if (!b) {
      b = { orders: [], byMessageId: new Map() };
      this.erp.set(ns, b);
    }
    return b;
  }
}

async function handle(state: StubState, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://stub');
  const rawBody = await readBody(req);
  const r: StubRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: queryObject(url.searchParams),
    headers: { ...req.headers },
    body: parseBody(req.headers['content-type'], rawBody),
    rawBody,
    at: Date.now(),
  };
  if (r.path.startsWith('/__control/')) return send(res, control(state, r));

  state.record(r);
  const scripted = state.nextScripted(r.path);
  const reply = scripted ?? route(state, r);
  if (reply.delayMs) {
    const closed = await sleepUnlessClosed(reply.delayMs, res);
    if (closed) return;
  }
  if (reply.drop) return void req.socket.destroy();
  send(res, reply, r.method === 'HEAD');
}

function route(state: StubState, r: StubRequest): Reply {
  if (r.path === '/http' || r.path.startsWith('/http/')) {
    const { method, path, query, headers, body } = r;
    return { status: 200, body: { ok: true, method, path, query, headers, body } };
  }
  let m = /^\/slack(?:\/[^/]+)?\/api\/([\w.]+)$/.exec(r.path);
  if (m) return slack(state, m[1], r);
  m = /^\/erp(?:\/([^/]+))?\/soap$/.exec(r.path);
  if (m) return erpSoap(state, m[1] ?? '', r);
  m = /^\/openai(?:\/([^/]+))?\/v1\/chat\/completions$/.exec(r.path);
  if (m) return chatCompletion(state, m[1] ?? '', r);
  m = /^\/mail(?:\/[^/]+)?\/emails$/.exec(r.path);
  if (m && r.method === 'POST') return mailApi(state, r);
  m = /^\/erp(?:\/([^/]+))?\/orders$/.exec(r.path);
  if (m && r.method === 'GET') {
    const { messageId, customerId } = r.query as Record<string, string | undefined>;
    const orders = state
      .book(m[1] ?? '')
      .orders.filter((o) => (!messageId || o.messageId === messageId) && (!customerId || o.customerId === customerId));
    return { status: 200, body: orders };
  }
  return { status: 404, body: { error: `no stub route for ${r.method} ${r.path}` } };
}

// ---------------------------------------------------------------- mail API

/** Resend's `POST /emails`: the same checks and error shape (`{statusCode, name, message}`). */
function mailApi(state: StubState, r: StubRequest): Reply {
  const fail = (status: number, name: string, message: string) => ({
    status,
    body: { statusCode: status, name, message },
  });
  if (r.headers.authorization !== `Bearer ${STUB_MAIL_KEY}`) return fail(401, 'invalid_api_key', 'API key is invalid');
  const b = r.body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object') return fail(422, 'validation_error', 'Body must be JSON');
  const to = Array.isArray(b.to) ? b.to : [b.to];
  if (typeof b.from !== 'string' || !b.from) return fail(422, 'validation_error', 'Missing `from` field.');
  if (!to.length || to.some((t) => typeof t !== 'string' || !t.includes('@')))
    return fail(422, 'validation_error', 'Invalid `to` field.');
  if (typeof b.subject !== 'string' || !b.subject) return fail(422, 'validation_error', 'Missing `subject` field.');
  if (typeof b.text !== 'string' && typeof b.html !== 'string')
    return fail(422, 'validation_error', 'Missing `html` or `text` field.');
  return { status: 200, body: { id: `stub-mail-${++state.mailSeq}` } };
}

// ---------------------------------------------------------------- control API

function control(state: StubState, r: StubRequest): Reply {
  const op = r.path.slice('/__control/'.length);
  let body: Record<string, any> = {};
  try {
    // The control API reads JSON whatever the content-type says (curl-friendly).
    body = r.rawBody ? JSON.parse(r.rawBody) : {};
  } catch {
    return { status: 400, body: { error: 'control requests take a JSON body' } };
  }
  if (op === 'health') return { status: 200, body: { ok: true } };
  if (op === 'script' && r.method === 'POST') {
    const { path, responses, then = 'default' } = body;
    if (typeof path !== 'string' || !path.startsWith('/') || !Array.isArray(responses) || responses.length === 0)
      return { status: 400, body: { error: 'expected {path: "/...", responses: [{status, ...}, ...], then?}' } };
    if (responses.some((x) => !x || typeof x.status !== 'number'))
      return { status: 400, body: { error: 'every response needs a numeric status' } };
    if (then !== 'default' && then !== 'repeat-last')
      return { status: 400, body: { error: 'then: "default" | "repeat-last"' } };
    state.scripts.set(path, { responses: [...responses], then });
    return { status: 200, body: { ok: true, path, queued: responses.length } };
  }
  if (op === 'requests' && r.method === 'GET') {
    const path = r.query.path;
    if (typeof path !== 'string') return { status: 400, body: { error: 'expected ?path=/...' } };
    return { status: 200, body: state.requests.get(path) ?? [] };
  }
  if (op === 'completions' && r.method === 'POST') {
    const { ns = '', answers } = body;
    if (typeof ns !== 'string' || !Array.isArray(answers) || answers.some((a) => typeof a?.content !== 'string'))
      return { status: 400, body: { error: 'expected {ns?, answers: [{content: "...", delayMs?, status?}]}' } };
    state.completions.set(ns, [...(state.completions.get(ns) ?? []), ...answers]);
    return { status: 200, body: { ok: true, queued: state.completions.get(ns)!.length } };
  }
  if (op === 'reset' && r.method === 'POST') {
    if (typeof body.path === 'string') {
      state.scripts.delete(body.path);
      state.requests.delete(body.path);
    } else {
      state.scripts.clear();
      state.requests.clear();
      state.erp.clear();
      state.completions.clear();
    }
    return { status: 200, body: { ok: true } };
  }
  return { status: 404, body: { error: `unknown control operation ${r.method} ${op}` } };
}

// ---------------------------------------------------------------- OpenAI-compatible chat completions

function chatCompletion(state: StubState, ns: string, r: StubRequest): Reply {
  const error = (status: number, message: string, type: string): Reply => ({
    status,
    body: { error: { message, type, code: null } },
  });
  if (r.method !== 'POST') return error(405, 'use POST', 'invalid_request_error');
  if (String(r.headers.authorization ?? '') !== `Bearer ${STUB_MODEL_KEY}`)
    return error(401, 'Incorrect API key provided', 'invalid_request_error');
  const req = r.body as { model?: unknown; messages?: unknown } | null;
  if (!req || typeof req.model !== 'string' || !Array.isArray(req.messages) || req.messages.length === 0)
    return error(400, 'model and messages are required', 'invalid_request_error');
  const next = state.completions.get(ns)?.shift();
  if (!next) return error(503, 'no completion scripted for this stub model', 'server_error');
  if (next.status && next.status !== 200)
    return { ...error(next.status, 'scripted failure', 'server_error'), delayMs: next.delayMs };
  return {
    status: 200,
    delayMs: next.delayMs,
    body: {
      id: `chatcmpl-stub-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.model,
      choices: [{ index: 0, message: { role: 'assistant', content: next.content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    },
  };
}

// ---------------------------------------------------------------- Slack Web API

/** Channels of the stub workspace; the bot is a member of all but `random`. */
const SLACK_CHANNELS = [
  { id: 'C0GENERAL', name: 'general', member: true, archived: false },
  { id: 'C0SALES', name: 'sales', member: true, archived: false },
  { id: 'C0RANDOM', name: 'random', member: false, archived: false },
  { id: 'C0OLD', name: 'old-projects', member: true, archived: true },
];

function slack(state: StubState, method: string, r: StubRequest): Reply {
  const ok = (body: Record<string, unknown>): Reply => ({ status: 200, body: { ok: true, ...body } });
  const fail = (error: string): Reply => ({ status: 200, body: { ok: false, error } });
  if (method !== 'chat.postMessage') return fail('unknown_method');
  if (r.method !== 'POST') return { status: 405, body: { ok: false, error: 'method_not_allowed' } };

  const ct = String(r.headers['content-type'] ?? '');
  let args: Record<string, any>;
  if (ct.includes('application/json')) {
    if (typeof r.body !== 'object' || r.body === null) return fail('invalid_json');
    args = r.body as Record<string, any>;
  } else if (ct.includes('application/x-www-form-urlencoded')) {
    args = Object.fromEntries(new URLSearchParams(r.rawBody));
  } else {
    return fail('invalid_form_data');
  }
  const auth = String(r.headers.authorization ?? '');
  // Slack only reads a token from the body for form posts.
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : ct.includes('json') ? undefined : args.token;
  if (!token) return fail('not_authed');
  if (token !== STUB_SLACK_TOKEN) return fail('invalid_auth');

  const wanted = String(args.channel ?? '').replace(/^#/, '');
  const channel = SLACK_CHANNELS.find((c) => c.id === wanted || c.name === wanted);
  if (!channel) return fail('channel_not_found');
  if (!channel.member) return fail('not_in_channel');
  if (channel.archived) return fail('is_archived');
  let blocks = args.blocks;
  if (typeof blocks === 'string') {
    try {
      blocks = JSON.parse(blocks);
    } catch {
      return fail('invalid_blocks_format');
    }
  }
  if (blocks !== undefined && !Array.isArray(blocks)) return fail('invalid_blocks_format');
  const text = args.text === undefined ? '' : String(args.text);
  if (!text && !blocks?.length) return fail('no_text');
  if (text.length > 40_000) return fail('msg_too_long');

  state.slackSeq += 1;
  const ts = `${Math.floor(Date.now() / 1000)}.${String(state.slackSeq).padStart(6, '0')}`;
  const message: Record<string, unknown> = {
    type: 'message',
    subtype: 'bot_message',
    text,
    user: 'U0AUTOMATE',
    bot_id: 'B0AUTOMATE',
    ts,
  };
  if (blocks) message.blocks = blocks;
  if (args.thread_ts) message.thread_ts = String(args.thread_ts);
  return ok({ channel: channel.id, ts, message });
}

// ---------------------------------------------------------------- legacy SOAP ERP

interface ErpOrder {
  orderId: string;
  status: string;
  messageId: string | null;
  customerId: string;
  items: { sku: string; quantity: number; unitPrice: string | null }[];
  createdAt: string;
}
interface ErpBook {
  orders: ErpOrder[];
  byMessageId: Map<string, ErpOrder>;
}

const SOAP_ACTION = 'urn:legacy-erp#CreateOrder';

function erpSoap(state: StubState, ns: string, r: StubRequest): Reply {
  if (r.method !== 'POST') return { status: 405, headers: { allow: 'POST' }, body: 'SOAP endpoint: POST only' };
  if (!String(r.headers['content-type'] ?? '').startsWith('text/xml'))
    return { status: 415, body: 'Unsupported Media Type: SOAP 1.1 requires text/xml' };
  const action = String(r.headers.soapaction ?? '').replace(/^"|"$/g, '');
  if (!/<(?:[\w.-]+:)?Envelope[\s>]/.test(r.rawBody) || !/<(?:[\w.-]+:)?Body[\s>]/.test(r.rawBody))
    return soapFault('soap:Client', 'Malformed SOAP message: no Envelope/Body');
  if (action !== SOAP_ACTION) return soapFault('soap:Client', `Unknown SOAPAction '${action}'`);

  const apiKey = xmlText(r.rawBody, 'ApiKey');
  // Echoing the credential is exactly what badly written legacy systems do.
  if (apiKey !== STUB_ERP_API_KEY)
    return soapFault('soap:Client', `Authentication failed: invalid API key '${apiKey ?? ''}'`);

  const book = state.book(ns);
  const messageId = xmlText(r.rawBody, 'MessageId') || null;
  const seen = messageId ? book.byMessageId.get(messageId) : undefined;
  if (seen) return orderResponse(seen);

  const order = xmlElement(r.rawBody, 'CreateOrder');
  if (order === undefined) return soapFault('soap:Client', 'Expected a CreateOrder request');
  const customerId = (xmlText(order, 'CustomerId') ?? '').trim();
  if (!/^[A-Za-z0-9-]{1,40}$/.test(customerId) || customerId.startsWith('missing'))
    return soapFault('soap:Client', `Customer '${customerId}' not found`);
  const items: ErpOrder['items'] = [];
  const itemXml = [
    ...(xmlElement(order, 'Items') ?? '').matchAll(
      /<(?:[\w.-]+:)?Item(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?Item\s*>/g,
    ),
  ];
  for (const [i, [, item]] of itemXml.entries()) {
    const sku = (xmlText(item, 'Sku') ?? '').trim();
    const quantity = Number(xmlText(item, 'Quantity'));
    const unitPrice = xmlText(item, 'UnitPrice')?.trim() ?? null;
    if (!sku) return soapFault('soap:Client', `Item ${i + 1}: Sku is required`);
    if (!Number.isInteger(quantity) || quantity < 1)
      return soapFault('soap:Client', `Item ${i + 1}: Quantity must be a positive integer`);
    if (unitPrice !== null && !/^\d+(\.\d+)?$/.test(unitPrice))
      return soapFault('soap:Client', `Item ${i + 1}: UnitPrice must be a decimal`);
    items.push({ sku, quantity, unitPrice });
  }
  if (items.length === 0) return soapFault('soap:Client', 'An order needs at least one Item');

  state.erpSeq += 1;
  const created: ErpOrder = {
    orderId: `ERP-${state.erpSeq}`,
    status: 'Created',
    messageId,
    customerId,
    items,
    createdAt: new Date().toISOString(),
  };
  book.orders.push(created);
  if (messageId) book.byMessageId.set(messageId, created);
  return orderResponse(created);
}

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>`;

function orderResponse(o: ErpOrder): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: envelope(
      `<CreateOrderResponse xmlns="urn:legacy-erp"><OrderId>${esc(o.orderId)}</OrderId><Status>${esc(o.status)}</Status></CreateOrderResponse>`,
    ),
  };
}

/** A SOAP 1.1 Fault, which the protocol sends with HTTP 500. */
export function soapFault(faultcode: string, faultstring: string): Reply {
  return {
    status: 500,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: envelope(
      `<soap:Fault><faultcode>${esc(faultcode)}</faultcode><faultstring>${esc(faultstring)}</faultstring></soap:Fault>`,
    ),
  };
}

function xmlElement(xml: string, name: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}\\s*>`).exec(xml);
  return m?.[1];
}
function xmlText(xml: string, name: string): string | undefined {
  const inner = xmlElement(xml, name);
  if (inner === undefined) return undefined;
  return inner
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;'))
    .replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) => {
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
      if (e[0] !== '#') return named[e.toLowerCase()];
      return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    });
}
const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

// ---------------------------------------------------------------- plumbing

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large for the stub');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(contentType: string | undefined, raw: string): unknown {
  if (raw && /[/+]json\b/i.test(contentType ?? '')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

function send(res: ServerResponse, reply: Reply, headOnly = false) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.headers ?? {})) headers[k.toLowerCase()] = String(v);
  let payload = '';
  if (reply.body !== undefined) {
    if (typeof reply.body === 'string') {
      payload = reply.body;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(reply.body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(headOnly ? undefined : payload);
}

/** Resolves `true` if the client went away before the delay ended. */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(false);
    }, ms);
    res.once('close', onClose);
  });
}
