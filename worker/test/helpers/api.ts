/**
 * Drives the Worker through its real fetch handler, as a browser or a script would: raw
 * with `call` (for malformed input and exact headers), typed with `client` (api/client.ts).
 */
import { exports } from 'cloudflare:workers';
import { createApiClient, type ApiClient, type Schemas, type Scope } from '../../../api/client.ts';

export const BASE = 'http://automate.test';
const worker = () => (exports as unknown as { default: Fetcher }).default;

/** The one typed API client, over the Worker's own fetch handler. */
export function client(auth: { token?: string; session?: Session } = {}): ApiClient {
  return createApiClient({
    baseUrl: BASE,
    token: auth.token,
    cookie: auth.session?.cookie,
    fetch: (request) => worker().fetch(request),
  });
}

export interface CallOptions {
  body?: unknown;
  /** Sent verbatim (for malformed or oversized bodies). */
  rawBody?: string;
  token?: string;
  session?: Session;
  headers?: Record<string, string>;
  /** `manual` to see a redirect instead of following it (the SSO navigations). */
  redirect?: 'follow' | 'manual';
}

export interface Result<T = any> {
  status: number;
  json: T;
  text: string;
  headers: Headers;
}

export async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Result<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.session) {
    headers.cookie = opts.session.cookie;
    // What a browser on the studio's own origin sends.
    headers.origin ??= BASE;
  }
  const res = await worker().fetch(new Request(BASE + path, { method, headers, body, redirect: opts.redirect }));
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export interface Session {
  cookie: string;
  email: string;
  password: string;
  tenant: Schemas['Me']['tenant'];
  user: NonNullable<Schemas['Me']['user']>;
}

let counter = 0;
export const PASSWORD = 'correct horse battery staple';

function sessionCookie(response: Response): string {
  const m = /automate_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '');
  if (!m) throw new Error(`no session cookie in ${response.status}`);
  return `automate_session=${m[1]}`;
}

/** The data of a typed call that must answer `status`; anything else throws with the server's error. */
export async function expectStatus<T>(
  what: string,
  status: number,
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await pending;
  if (response.status !== status) throw new Error(`${what} failed: ${response.status} ${JSON.stringify(error)}`);
  return { data: data as T, response };
}

/** A new tenant with its owner signed in and their address confirmed (API tokens need that). */
export async function signup(name = `Tenant ${++counter}`, opts: { verify?: boolean } = {}): Promise<Session> {
  const email = `owner${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const { data, response } = await expectStatus(
    'signup',
    201,
    client().POST('/auth/signup', { body: { tenant: name, email, password: PASSWORD } }),
  );
  if (opts.verify !== false) {
    const token = linkToken(await mailTo(email, 'verify_email'));
    await expectStatus('verify', 200, client().POST('/auth/verify-email', { body: { token } }));
  }
  return { cookie: sessionCookie(response), email, password: PASSWORD, tenant: data.tenant, user: data.user! };
}

export type OutboxMessage = Schemas['OutboxMessage'];

/**
 * The newest message of this template to this address in the dev outbox. Mail goes out
 * after the answer (waitUntil), so this waits for it, up to `timeoutMs`.
 */
export async function mailTo(to: string, template: string, opts: { after?: number; timeoutMs?: number } = {}) {
  const deadline = Date.now() + (opts.timeoutMs ?? 5_000);
  for (;;) {
    const messages = await outbox(to);
    const found = messages.find((m) => m.template === template && m.createdAt >= (opts.after ?? 0));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${template} mail to ${to} (outbox has ${messages.length})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function outbox(to?: string): Promise<OutboxMessage[]> {
  const res = await call('GET', `/api/dev/outbox${to ? `?to=${encodeURIComponent(to)}` : ''}`);
  if (res.status !== 200) throw new Error(`outbox: ${res.status} ${res.text}`);
  return res.json.messages;
}

/** The token of the one link in a mail (`.../studio/<page>#token=...`). */
export function linkToken(message: { text: string }): string {
  const m = /#token=([A-Za-z0-9_-]+)/.exec(message.text);
  if (!m) throw new Error(`no link in: ${message.text}`);
  return m[1];
}

export async function login(email: string, password = PASSWORD): Promise<Session> {
  const { data, response } = await expectStatus(
    'login',
    200,
    client().POST('/auth/login', { body: { email, password } }),
  );
  // A 202 (two-factor challenge) already failed expectStatus; this narrows the type.
  if (!('tenant' in data)) throw new Error('login answered a two-factor challenge');
  return { cookie: sessionCookie(response), email, password, tenant: data.tenant, user: data.user! };
}

/** A member with this role in the owner's tenant, invited by the owner and signed in from the accepted invitation. */
export async function addMember(owner: Session, role: 'admin' | 'editor' | 'viewer' | 'owner'): Promise<Session> {
  const email = `${role}${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await expectStatus('invite', 201, client({ session: owner }).POST('/invitations', { body: { email, role } }));
  const token = linkToken(await mailTo(email, 'invitation'));
  const { data, response } = await expectStatus(
    'accept',
    201,
    client().POST('/auth/invitation/accept', { body: { token, name: `The ${role}`, password: PASSWORD } }),
  );
  return { cookie: sessionCookie(response), email, password: PASSWORD, tenant: data.tenant, user: data.user };
}

export async function createToken(owner: Session, scopes?: Scope[], name = 'test token'): Promise<string> {
  const created = client({ session: owner }).POST('/tokens', { body: { name, ...(scopes ? { scopes } : {}) } });
  return (await expectStatus('token', 201, created)).data.token;
}

/** The stored secrets workflows/order_flow.json references (publish refuses missing ones). */
export const ORDER_FLOW_SECRETS: Record<string, string> = {
  SHOP_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  ERP_API_KEY: 'erp-test-key',
  SALES_HOOK_TOKEN: 'sales-hook-token-5b1f',
};

export async function putSecrets(owner: Session, secrets: Record<string, string> = ORDER_FLOW_SECRETS): Promise<void> {
  for (const [key, value] of Object.entries(secrets)) {
    const { response, error } = await client({ session: owner }).PUT('/secrets/{key}', {
      params: { path: { key } },
      body: { value },
    });
    if (!response.ok) throw new Error(`secret ${key}: ${response.status} ${JSON.stringify(error)}`);
  }
}

const FINAL = new Set(['succeeded', 'failed']);

async function listedAs(run: any, auth: { token?: string; session?: Session }): Promise<boolean> {
  const q = `workflow=${encodeURIComponent(run.workflow)}&status=${run.status}&limit=200`;
  const page = await call('GET', `/api/runs?${q}`, auth);
  return page.status === 200 && page.json.runs.some((r: any) => r.id === run.id);
}

/** Polls the Explorer until the run reaches a final state (or `until` holds). */
export async function waitForRun(
  runId: string,
  auth: { token?: string; session?: Session },
  until: (run: any) => boolean = (r) => FINAL.has(r.status),
  timeoutMs = 15_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: Result | undefined;
  while (Date.now() < deadline) {
    last = await call('GET', `/api/runs/${runId}`, auth);
    // The detail is the run object's own state; the Explorer's list (the tenant's run index)
    // follows within the flush debounce: a finished run is waited for until it lists so.
    if (last.status === 200 && until(last.json) && (!FINAL.has(last.json.status) || (await listedAs(last.json, auth))))
      return last.json;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} did not get there in ${timeoutMs} ms; last: ${last?.status} ${last?.text}`);
}
