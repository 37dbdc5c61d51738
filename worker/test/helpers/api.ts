/** Drives the Worker through its real fetch handler, as a browser or a script would. */
import { exports } from 'cloudflare:workers';

export const BASE = 'http://automate.test';

export interface CallOptions {
  body?: unknown;
  /** Sent verbatim (for malformed or oversized bodies). */
  rawBody?: string;
  token?: string;
  session?: Session;
  headers?: Record<string, string>;
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
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(
    new Request(BASE + path, { method, headers, body }),
  );
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
  tenant: { id: string; slug: string; name: string };
  user: { id: string; email: string; role: string };
}

let counter = 0;
export const PASSWORD = 'correct horse battery staple';

function sessionCookie(res: Result): string {
  const set = res.headers.get('set-cookie') ?? '';
  const m = /automate_session=([^;]+)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${res.status} ${res.text}`);
  return `automate_session=${m[1]}`;
}

/** A new tenant with its owner signed in. */
export async function signup(name = `Tenant ${++counter}`): Promise<Session> {
  const email = `owner${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const res = await call('POST', '/api/auth/signup', { body: { tenant: name, email, password: PASSWORD } });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return { cookie: sessionCookie(res), email, password: PASSWORD, tenant: res.json.tenant, user: res.json.user };
}

export async function login(email: string, password = PASSWORD): Promise<Session> {
  const res = await call('POST', '/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { cookie: sessionCookie(res), email, password, tenant: res.json.tenant, user: res.json.user };
}

/** A member with this role in the owner's tenant, signed in. */
export async function addMember(owner: Session, role: 'admin' | 'editor' | 'viewer'): Promise<Session> {
  const email = `${role}${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const res = await call('POST', '/api/members', { session: owner, body: { email, password: PASSWORD, role } });
  if (res.status !== 201) throw new Error(`add member failed: ${res.status} ${res.text}`);
  return login(email);
}

export async function createToken(owner: Session, scopes?: string[], name = 'test token'): Promise<string> {
  const res = await call('POST', '/api/tokens', { session: owner, body: { name, ...(scopes ? { scopes } : {}) } });
  if (res.status !== 201) throw new Error(`token failed: ${res.status} ${res.text}`);
  return res.json.token;
}

/** The stored secrets workflows/order_flow.json references (publish refuses missing ones). */
export const ORDER_FLOW_SECRETS: Record<string, string> = {
  SHOP_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  ERP_API_KEY: 'erp-test-key',
  SALES_HOOK_TOKEN: 'sales-hook-token-5b1f',
};

export async function putSecrets(owner: Session, secrets: Record<string, string> = ORDER_FLOW_SECRETS): Promise<void> {
  for (const [key, value] of Object.entries(secrets)) {
    const res = await call('PUT', `/api/secrets/${key}`, { session: owner, body: { value } });
    if (res.status !== 201 && res.status !== 200) throw new Error(`secret ${key}: ${res.status} ${res.text}`);
  }
}

const FINAL = new Set(['succeeded', 'failed']);

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
    // The D1 copy is written right after the run object's state; wait for the steps too.
    if (
      last.status === 200 &&
      until(last.json) &&
      (!FINAL.has(last.json.status) ||
        last.json.steps.every(
          (s: any) => !['ready', 'queued', 'running'].includes(s.status) || last!.json.status === 'failed',
        ))
    )
      return last.json;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} did not get there in ${timeoutMs} ms; last: ${last?.status} ${last?.text}`);
}
