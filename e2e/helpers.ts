/** Shared by the e2e tests: talk to the running stack as a browser session or as a script. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');

export interface Account {
  baseUrl: string;
  tenant: string;
  email: string;
  password: string;
  /** `automate_session=...`, to send as a Cookie header. */
  cookie: string;
}

export const uniqueSuffix = () => randomBytes(4).toString('hex');

export async function signup(baseUrl: string, tenant = `E2E ${uniqueSuffix()}`): Promise<Account> {
  const email = `owner-${uniqueSuffix()}@example.com`;
  const password = 'correct horse battery staple';
  const res = await fetch(`${baseUrl}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ tenant, email, password }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { baseUrl, tenant, email, password, cookie };
}

/** A cookie-authenticated call; writes carry our own Origin as a browser would. */
export function asUser(account: Account, method: string, route: string, body?: unknown) {
  return fetch(`${account.baseUrl}${route}`, {
    method,
    headers: {
      cookie: account.cookie,
      origin: account.baseUrl,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A cookie-authenticated call that must answer `expected` (or any 2xx); returns the parsed body. */
export async function apiAs<T = any>(
  account: Account,
  method: string,
  route: string,
  body?: unknown,
  expected?: number,
): Promise<T> {
  const res = await asUser(account, method, route, body);
  const text = await res.text();
  if (expected !== undefined ? res.status !== expected : !res.ok)
    throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function createToken(account: Account): Promise<string> {
  const res = await asUser(account, 'POST', '/api/tokens', { name: 'e2e cli' });
  if (res.status !== 201) throw new Error(`create token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Stored secret keys a workflow file refers to (`{"$secret": "KEY"}` without `backend: "env"`). */
export function storedSecretKeys(workflow: unknown): string[] {
  const keys = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$secret === 'string' && o.backend !== 'env') keys.add(o.$secret);
      Object.values(o).forEach(walk);
    }
  };
  walk(workflow);
  return [...keys].sort();
}

/**
 * Publishing refuses a workflow whose stored secrets do not exist, so create them first.
 * Tolerates a server without the secrets API yet (404).
 */
export async function provideSecrets(account: Account, keys: string[]) {
  for (const key of keys) {
    const value = key.endsWith('WEBHOOK_SECRET')
      ? `whsec_${randomBytes(32).toString('base64')}`
      : `e2e-${randomBytes(16).toString('hex')}`;
    const res = await asUser(account, 'PUT', `/api/secrets/${key}`, { value });
    if (res.status === 404) return;
    if (!res.ok) throw new Error(`PUT /api/secrets/${key}: ${res.status} ${await res.text()}`);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for asserting on what a user would read. */
  output: string;
}

/** Runs the real CLI (`node cli/automate.ts ...`) as a child process. */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.AUTOMATE_URL;
  delete childEnv.AUTOMATE_TOKEN;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'cli/automate.ts'), ...args],
      { cwd: root, env: childEnv, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, output: `${stdout}${stderr}` });
      },
    );
  });
}
